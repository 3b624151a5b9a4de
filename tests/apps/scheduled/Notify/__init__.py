"""Texts the on-call phone through a Twilio output binding (devhost accepts and drops it) and returns the text."""
import json

import azure.functions as func


def main(run: dict, message: func.Out[str]) -> str:
    text = f"{run['source']} ran" + (" late" if run["pastDue"] else "")
    message.set(json.dumps({"body": text, "to": "+15551234567"}))
    return text

"""Pretends to download from a mirror: takes `seconds`, then answers with the mirror's name."""
import time


def main(request: dict) -> str:
    time.sleep(request["seconds"])
    return f"answer from {request['mirror']}"

"""Sleeps for the given seconds (a number, or {"seconds", "started"}: a file touched first), blocking its thread."""
import pathlib
import time


def main(value) -> str:
    if isinstance(value, dict):
        if value.get("started"):
            pathlib.Path(value["started"]).touch()
        value = value["seconds"]
    time.sleep(value)
    return f"slept {value}s"

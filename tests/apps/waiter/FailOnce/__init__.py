"""Fails the first time it runs for a given marker file (and creates it); succeeds once the file exists."""
from pathlib import Path


def main(payload: str) -> str:
    marker = Path(payload)
    if not marker.exists():
        marker.write_text("failed once")
        raise RuntimeError("the first attempt fails")
    return "recovered"

"""Fails its first `failures` calls for one counter file, then succeeds; returns how many attempts it took."""
from pathlib import Path


def main(work: dict) -> dict:
    counter = Path(work["counter"])
    attempt = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempt))
    if attempt <= work["failures"]:
        raise ValueError(f"attempt {attempt} failed")
    return {"attempts": attempt}

"""Takes a while (the work a crash interrupts), then returns its step number."""
import time


def main(spec: dict) -> int:
    time.sleep(spec["seconds"])
    return spec["step"]

"""Adds two numbers, taking a moment (the work a kill interrupts)."""
import time


def main(pair: list) -> int:
    time.sleep(0.01)
    return pair[0] + pair[1]

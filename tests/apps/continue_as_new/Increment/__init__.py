"""Adds one to a number."""


def main(value: int) -> int:
    return value + 1

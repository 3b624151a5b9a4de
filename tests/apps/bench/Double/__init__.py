"""Doubles a number."""


def main(value: int) -> int:
    return value * 2

"""Squares a number; anything that is not an integer is an error."""


def main(number: int) -> int:
    if not isinstance(number, int):
        raise TypeError(f"not a number: {number!r}")
    return number * number

"""Raises whatever it is given."""


def main(name: str) -> str:
    raise ValueError(f"cannot greet {name}")

"""Step B of a plan: returns its name and position."""


def main(position: int) -> str:
    return f"B{position}"

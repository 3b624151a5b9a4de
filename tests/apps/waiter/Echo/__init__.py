"""Returns its input."""


def main(payload: str) -> str:
    return payload

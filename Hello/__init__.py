"""Activity: return a greeting for the name it is given."""


def main(name: str) -> str:
    return f"Hello {name}!"

"""Imports a package that requirements.txt lists but nobody installed: the function fails to load."""
import devhost_example_missing_package


def main(name: str) -> str:
    return devhost_example_missing_package.enrich(name)

"""Kills the worker process while it imports the app, as a broken native extension would, for as long as the file
named by DEVHOST_TEST_DIE_AT_IMPORT exists. Harmless without it."""
import os

_SWITCH = os.environ.get("DEVHOST_TEST_DIE_AT_IMPORT")
if _SWITCH and os.path.exists(_SWITCH):
    os._exit(3)


def main(value: str) -> str:
    return value

"""Kills the worker process while it imports the app, as a broken native extension would, for as many starts as the
file named by DEVHOST_TEST_IMPORT_DEATHS says (each start that dies counts one down). Harmless without it."""
import os

_COUNTER = os.environ.get("DEVHOST_TEST_IMPORT_DEATHS")
if _COUNTER and os.path.exists(_COUNTER):
    with open(_COUNTER) as f:
        _left = int(f.read().strip() or 0)
    if _left > 0:
        with open(_COUNTER, "w") as f:
            f.write(str(_left - 1))
        os._exit(3)


def main(value: str) -> str:
    return value

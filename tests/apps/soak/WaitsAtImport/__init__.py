"""Holds the worker's start-up at import, as a module that waits for a network resource at import time would: while
the file named by DEVHOST_TEST_IMPORT_GATE does not exist, the import does not return. Each worker process that gets
here first appends its pid to that path + ".pids", so a test knows which process is stuck. Harmless without it."""
import os
import time

_GATE = os.environ.get("DEVHOST_TEST_IMPORT_GATE")
if _GATE:
    with open(_GATE + ".pids", "a") as pids:
        pids.write(f"{os.getpid()}\n")
    while not os.path.exists(_GATE):
        time.sleep(0.01)


def main(value: str) -> str:
    return value

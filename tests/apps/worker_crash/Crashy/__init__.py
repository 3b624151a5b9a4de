"""Kills the worker process (os._exit) the first time it runs for a marker file; answers after that."""
import os


def main(marker: str) -> str:
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(13)
    return "survived"

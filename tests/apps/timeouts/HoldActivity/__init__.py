"""Blocks its thread until the file named by "gate" exists (touching gate.held first), as slow I/O would."""
import os
import pathlib
import time


def main(value: dict) -> str:
    gate = value["gate"]
    pathlib.Path(f"{gate}.held").touch()
    deadline = time.monotonic() + 60
    while not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.01)
    return "released"

"""CPU-bound work: sums squares for `work` steps, holding the GIL all along. With `record` (a folder), writes when
and in which process it ran, so tests can prove that two processes ran at once."""
import json
import os
import time
import uuid


def main(value: dict) -> int:
    started = time.time()
    total = sum(i * i for i in range(int(value["work"])))
    record = value.get("record")
    if record:
        with open(os.path.join(record, f"{uuid.uuid4().hex}.json"), "w") as f:
            json.dump({"pid": os.getpid(), "start": started, "end": time.time()}, f)
    return total % 1000

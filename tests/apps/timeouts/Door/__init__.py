"""An entity whose "hold" operation blocks its thread until the file named by its input's "gate" exists (touching
gate.held first), as an entity doing slow I/O would; "count" counts."""
import os
import pathlib
import time

import azure.durable_functions as df


def entity_function(context: df.DurableEntityContext):
    if context.operation_name == "hold":
        gate = context.get_input()["gate"]
        pathlib.Path(f"{gate}.held").touch()
        deadline = time.monotonic() + 60
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.01)
        context.set_result("released")
    else:
        context.set_state(context.get_state(lambda: 0) + 1)
        context.set_result(context.get_state())


main = df.Entity.create(entity_function)

"""A function-based durable entity: an integer counter with add, reset, get and delete, an operation that raises,
and a test hook that holds a batch until a file appears."""
import os
import time
from pathlib import Path

import azure.durable_functions as df


def entity_function(context: df.DurableEntityContext) -> None:
    current = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        current += context.get_input()
        context.set_state(current)
        context.set_result(current)
    elif operation == "reset":
        context.set_state(0)
    elif operation == "get":
        context.set_result(current)
    elif operation == "delete":  # DELETE .../entities/Counter/{key} sends this operation
        context.destruct_on_exit()
    elif operation == "hold":
        _hold(context.get_input())
    elif operation == "fail":
        raise ValueError(f"Counter cannot {context.get_input()}")
    else:
        raise NotImplementedError(f"unknown operation '{operation}'")


def _hold(gate: str) -> None:
    """Mark that the batch reached this operation (gate.held), then wait until the file `gate` exists, or until the
    host that started this worker is gone (a test kills it here, mid-batch)."""
    Path(f"{gate}.held").touch()
    host = os.getppid()
    while not os.path.exists(gate) and os.getppid() == host:
        time.sleep(0.01)


main = df.Entity.create(entity_function)

"""A test hook, not a pattern to copy: orchestrator code must never block. This one holds its thread until the
file named by its input ("gate") exists (marking gate.held first); with PYTHON_THREADPOOL_THREAD_COUNT=1 that is
the worker's only thread for `def` functions, so instances started meanwhile stay Pending."""
import os
import time
from pathlib import Path

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    gate = context.get_input()["gate"]
    Path(f"{gate}.held").touch()
    host = os.getppid()
    while not os.path.exists(gate) and os.getppid() == host:  # gives up when the host is gone
        time.sleep(0.01)
    return "released"
    yield  # a generator, as orchestrators are


main = df.Orchestrator.create(orchestrator_function)

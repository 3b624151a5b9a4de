"""Waits `seconds` of durable time `ticks` times in a loop; returns the durable time of each wake."""
from datetime import timedelta

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    spec = context.get_input()
    woke = []
    for _ in range(spec["ticks"]):
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=spec["seconds"]))
        woke.append(context.current_utc_datetime.isoformat())
    return woke


main = df.Orchestrator.create(orchestrator_function)

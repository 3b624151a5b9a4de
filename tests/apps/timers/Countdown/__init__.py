"""Sleeps durably: one timer due `seconds` after the start, then reports when it was due and when it woke."""
from datetime import timedelta

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    seconds = (context.get_input() or {}).get("seconds", 1)
    due = context.current_utc_datetime + timedelta(seconds=seconds)
    yield context.create_timer(due)
    return {"due": due.isoformat(), "woke": context.current_utc_datetime.isoformat()}


main = df.Orchestrator.create(orchestrator_function)

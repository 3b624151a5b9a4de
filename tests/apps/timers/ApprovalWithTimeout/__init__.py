"""Timeout pattern: waits for an "Approval" event, but gives up when a timer of `timeout` seconds fires first."""
from datetime import timedelta

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    timeout = (context.get_input() or {}).get("timeout", 3600)
    deadline = context.create_timer(context.current_utc_datetime + timedelta(seconds=timeout))
    approval = context.wait_for_external_event("Approval")
    winner = yield context.task_any([approval, deadline])
    if winner == approval:
        deadline.cancel()
        return {"approved": approval.result}
    return {"approved": None, "timedOut": True}


main = df.Orchestrator.create(orchestrator_function)

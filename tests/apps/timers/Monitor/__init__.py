"""Monitor pattern: checks every `interval` seconds whether a file has appeared, until `expiry` seconds pass."""
from datetime import timedelta

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    job = context.get_input()
    expiry = context.current_utc_datetime + timedelta(seconds=job["expiry"])
    checks = 0
    while context.current_utc_datetime < expiry:
        checks += 1
        content = yield context.call_activity("ReadFile", job["path"])
        if content is not None:
            return {"content": content, "checks": checks}
        context.set_custom_status({"checks": checks})
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=job["interval"]))
    return {"content": None, "checks": checks}


main = df.Orchestrator.create(orchestrator_function)

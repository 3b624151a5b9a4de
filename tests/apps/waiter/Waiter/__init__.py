"""Waits for the external event "go" (so it stays Running until told), then returns its input and the event's data."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    context.set_custom_status("waiting")
    event = yield context.wait_for_external_event("go")
    return {"input": context.get_input(), "event": event}


main = df.Orchestrator.create(orchestrator_function)

"""Sends a notification about the timer run in its input and returns what it sent."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    run = context.get_input()
    sent = yield context.call_activity("Notify", run)
    return {**run, "sent": sent}


main = df.Orchestrator.create(orchestrator_function)

"""Waits for one external event ("go") and returns its data: many of these at once weigh on a host's memory."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    return (yield context.wait_for_external_event("go"))


main = df.Orchestrator.create(orchestrator_function)

"""Calls the Enrich activity, which failed to load."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("Enrich", "Tokyo"))


main = df.Orchestrator.create(orchestrator_function)

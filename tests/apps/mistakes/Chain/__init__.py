"""Calls Raise without catching its failure: the orchestration fails."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    greeting = yield context.call_activity("Raise", "Seattle")
    return greeting


main = df.Orchestrator.create(orchestrator_function)

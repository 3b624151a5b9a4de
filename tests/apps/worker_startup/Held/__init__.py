"""Calls the Hold activity with the input's "release" path and returns what it answers."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("Hold", context.get_input()["release"]))


main = df.Orchestrator.create(orchestrator_function)

"""Calls an activity that kills its own process the first time it runs."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    marker = context.get_input()["marker"]
    return (yield context.call_activity("Crashy", marker))


main = df.Orchestrator.create(orchestrator_function)

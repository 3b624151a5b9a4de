"""Forgets `yield` before call_activity: returns the task itself, which the SDK cannot serialize."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    result = context.call_activity("Raise", "no yield")
    return result


main = df.Orchestrator.create(orchestrator_function)

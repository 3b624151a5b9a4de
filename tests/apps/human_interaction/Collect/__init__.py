"""Waits for the external events named in its input, one after the other, and returns their data in that order."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    values = []
    for name in context.get_input()["events"]:
        values.append((yield context.wait_for_external_event(name)))
    return values


main = df.Orchestrator.create(orchestrator_function)

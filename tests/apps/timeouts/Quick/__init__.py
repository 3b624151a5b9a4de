"""Calls HoldActivity with the input given, or SlowActivity for no time at all: an orchestration that needs the
worker but no more than a moment of it."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    spec = context.get_input()
    if spec:
        return (yield context.call_activity("HoldActivity", spec))
    return (yield context.call_activity("SlowActivity", 0))


main = df.Orchestrator.create(orchestrator_function)

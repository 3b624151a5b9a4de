"""Calls the Double activity `n` times, one after another: each step is an episode replaying all before it."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    n = context.get_input() or 100
    total = 0
    for i in range(n):
        total += yield context.call_activity("Double", i)
    return total


main = df.Orchestrator.create(orchestrator_function)

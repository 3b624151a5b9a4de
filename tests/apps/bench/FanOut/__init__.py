"""Fans out to `n` Double activities at once and sums their results (fan-out/fan-in)."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    n = context.get_input() or 1000
    results = yield context.task_all([context.call_activity("Double", i) for i in range(n)])
    return sum(results)


main = df.Orchestrator.create(orchestrator_function)

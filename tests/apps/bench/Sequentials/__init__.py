"""Runs `count` Sequential sub-orchestrations of `steps` activities each at once and sums their results."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    spec = context.get_input() or {}
    count, steps = spec.get("count", 20), spec.get("steps", 100)
    results = yield context.task_all([context.call_sub_orchestrator("Sequential", steps) for _ in range(count)])
    return sum(results)


main = df.Orchestrator.create(orchestrator_function)

"""Fans out to `n` CPU-bound Spin activities at once (input: {"n", "work", "record"}) and counts them."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    spec = context.get_input()
    task = {"work": spec["work"], "record": spec.get("record")}
    results = yield context.task_all([context.call_activity("Spin", task) for _ in range(spec["n"])])
    return len(results)


main = df.Orchestrator.create(orchestrator_function)

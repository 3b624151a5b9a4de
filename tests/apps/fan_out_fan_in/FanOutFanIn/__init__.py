"""Fan-out/fan-in: squares every number in parallel (one Square activity each) and sums the results."""
import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    job = context.get_input() or {}
    numbers = job.get("numbers", list(range(job.get("count", 10))))
    squares = yield context.task_all([context.call_activity("Square", n) for n in numbers])
    return {"count": len(squares), "sum": sum(squares)}


main = df.Orchestrator.create(orchestrator_function)

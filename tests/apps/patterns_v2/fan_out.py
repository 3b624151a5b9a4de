"""Fan-out/fan-in: squares every number in parallel (one Square activity each) and sums the results."""
import azure.durable_functions as df

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context", orchestration="FanOutFanIn")
def fan_out_fan_in(context: df.DurableOrchestrationContext):
    job = context.get_input() or {}
    numbers = job.get("numbers", list(range(job.get("count", 10))))
    squares = yield context.task_all([context.call_activity("Square", n) for n in numbers])
    return {"count": len(squares), "sum": sum(squares)}


@bp.activity_trigger(input_name="number", activity="Square")
def square(number: int) -> int:
    if not isinstance(number, int):
        raise TypeError(f"not a number: {number!r}")
    return number * number

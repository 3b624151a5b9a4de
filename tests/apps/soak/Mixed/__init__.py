"""One of everything a crash can interrupt: a chain, a fan-out/fan-in, a sub-orchestration, an entity signal and a
durable timer. Input {"k": int, "fan": int, "tally": entity key, "timer": seconds}."""
from datetime import timedelta

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    spec = context.get_input()
    k = spec["k"]
    first = yield context.call_activity("Add", [k, 1])
    second = yield context.call_activity("Add", [first, 1])
    parts = yield context.task_all([context.call_activity("Add", [i, k]) for i in range(spec["fan"])])
    child = yield context.call_sub_orchestrator("Child", k)
    context.signal_entity(df.EntityId("Tally", spec["tally"]), "add", 1)
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=spec["timer"]))
    return {"chain": second, "fan": sum(parts), "child": child}


main = df.Orchestrator.create(orchestrator_function)

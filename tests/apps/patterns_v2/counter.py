"""A durable entity (an integer counter), an orchestrator that signals and calls it, and an HTTP API over it."""
import json

import azure.durable_functions as df
import azure.functions as func

bp = df.Blueprint()


@bp.entity_trigger(context_name="context", entity_name="Counter")
def counter(context: df.DurableEntityContext) -> None:
    current = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        current += context.get_input()
        context.set_state(current)
        context.set_result(current)
    elif operation == "reset":
        context.set_state(0)
    elif operation == "get":
        context.set_result(current)
    elif operation == "delete":
        context.destruct_on_exit()
    elif operation == "fail":
        raise ValueError(f"Counter cannot {context.get_input()}")
    else:
        raise NotImplementedError(f"unknown operation '{operation}'")


@bp.orchestration_trigger(context_name="context", orchestration="CounterOrchestrator")
def counter_orchestrator(context: df.DurableOrchestrationContext):
    spec = context.get_input() or {}
    entity = df.EntityId("Counter", spec.get("key", "default"))
    for amount in spec.get("signals", []):
        context.signal_entity(entity, "add", amount)
    after_signals = yield context.call_entity(entity, "get")
    after_add = yield context.call_entity(entity, "add", spec.get("add", 0))
    try:
        yield context.call_entity(entity, "fail", "divide by zero")
        error = None
    except Exception as exc:  # the entity's exception comes back to the caller
        error = str(exc)
    return {"afterSignals": after_signals, "afterAdd": after_add, "error": error}


@bp.function_name("CounterApi")
@bp.route(route="counters/{key}", methods=["GET", "POST"])
@bp.durable_client_input(client_name="client")
async def counter_api(req: func.HttpRequest, client) -> func.HttpResponse:
    """POST /api/counters/{key}?op=add with a JSON body signals the Counter; GET reads its state (404 when none)."""
    entity = df.EntityId("Counter", req.route_params["key"])
    if req.method == "POST":
        amount = req.get_json() if req.get_body() else None
        await client.signal_entity(entity, req.params.get("op", "add"), amount)
        return func.HttpResponse(status_code=202)
    state = await client.read_entity_state(entity)
    if not state.entity_exists:
        return func.HttpResponse(status_code=404)
    return func.HttpResponse(json.dumps(state.entity_state), mimetype="application/json")

"""POST /api/counters/{key}?op=add with a JSON body signals the Counter; GET reads its state (404 when it has none)."""
import json

import azure.durable_functions as df
import azure.functions as func


async def main(req: func.HttpRequest, client: str) -> func.HttpResponse:
    durable = df.DurableOrchestrationClient(client)
    counter = df.EntityId("Counter", req.route_params["key"])
    if req.method == "POST":
        amount = req.get_json() if req.get_body() else None
        await durable.signal_entity(counter, req.params.get("op", "add"), amount)
        return func.HttpResponse(status_code=202)
    state = await durable.read_entity_state(counter)
    if not state.entity_exists:
        return func.HttpResponse(status_code=404)
    return func.HttpResponse(json.dumps(state.entity_state), mimetype="application/json")

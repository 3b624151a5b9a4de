"""Starts any orchestrator, with the instance id from the route when given, and the JSON body as input."""
import azure.durable_functions as df
import azure.functions as func


async def main(req: func.HttpRequest, starter: str) -> func.HttpResponse:
    client = df.DurableOrchestrationClient(starter)
    instance_id = await client.start_new(req.route_params["functionName"], req.route_params.get("instanceId"),
                                         req.get_json() if req.get_body() else None)
    return client.create_check_status_response(req, instance_id)

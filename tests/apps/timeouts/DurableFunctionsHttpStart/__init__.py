"""Starts the orchestrator named in the route, with the request's JSON body (if any) as input."""
import azure.durable_functions as df
import azure.functions as func


async def main(req: func.HttpRequest, starter: str) -> func.HttpResponse:
    client = df.DurableOrchestrationClient(starter)
    body = req.get_json() if req.get_body() else None
    instance_id = await client.start_new(req.route_params["functionName"], None, body)
    return client.create_check_status_response(req, instance_id)

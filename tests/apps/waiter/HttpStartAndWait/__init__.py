"""Starts an orchestrator and answers with its output if it finishes within ?timeout= ms (default 3000), else with
the check-status response: the SDK's wait_for_completion_or_create_check_status_response."""
import azure.durable_functions as df
import azure.functions as func


async def main(req: func.HttpRequest, starter: str) -> func.HttpResponse:
    client = df.DurableOrchestrationClient(starter)
    instance_id = await client.start_new(req.route_params["functionName"], None,
                                         req.get_json() if req.get_body() else None)
    return await client.wait_for_completion_or_create_check_status_response(
        req, instance_id, timeout_in_milliseconds=int(req.params.get("timeout", "3000")),
        retry_interval_in_milliseconds=int(req.params.get("interval", "100")))

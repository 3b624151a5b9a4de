"""Durable patterns in the v2 programming model, twins of the folder-model apps: fan-out/fan-in (fan_out.py), a
durable entity (counter.py) and human interaction (approval.py, one Blueprint whose functions are split across
approval.py and approval_activities.py), registered into one DFApp with an HTTP starter."""
import azure.durable_functions as df
import azure.functions as func

import approval_activities  # noqa: F401  (adds SendApprovalRequest to the approval Blueprint)
from approval import bp as approval_bp
from counter import bp as counter_bp
from fan_out import bp as fan_out_bp

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(fan_out_bp)
app.register_functions(counter_bp)
app.register_blueprint(approval_bp)


@app.function_name("HttpStart")
@app.route(route="orchestrators/{functionName}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client) -> func.HttpResponse:
    """Starts any orchestrator with the request's JSON body as input."""
    body = req.get_body()
    instance_id = await client.start_new(req.route_params["functionName"], None, req.get_json() if body else None)
    return client.create_check_status_response(req, instance_id)

"""The oracle's v2 app: one function per kind of invocation the two workers must answer alike (HTTP, activity,
orchestration, entity, timer; typed and untyped inputs, outputs, return values, exceptions)."""
import json

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="echo/{id}", methods=["POST"])
def http_echo(req: func.HttpRequest) -> func.HttpResponse:
    body = {"method": req.method, "id": req.route_params.get("id"), "q": req.params.get("q"),
            "header": req.headers.get("x-test"), "json": req.get_json()}
    return func.HttpResponse(json.dumps(body), status_code=201, mimetype="application/json",
                             headers={"x-echo": "yes"})


@app.route(route="text")
def http_text(req):
    return func.HttpResponse("plain " + req.params.get("name", "nobody"))


@app.route(route="boom")
def http_boom(req: func.HttpRequest) -> func.HttpResponse:
    raise ValueError("the HTTP function failed")


@app.route(route="start/{name}")
@app.durable_client_input(client_name="client")
async def http_client(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    urls = client.create_http_management_payload("instance-1")
    return func.HttpResponse(json.dumps(sorted(urls)), mimetype="application/json")


@app.activity_trigger(input_name="name")
def hello(name: str) -> str:
    return f"Hello {name}!"


@app.activity_trigger(input_name="payload")
def untyped(payload):
    return {"got": payload, "keys": sorted(payload) if isinstance(payload, dict) else None}


@app.activity_trigger(input_name="payload")
async def async_activity(payload: dict) -> list:
    return [payload["a"], payload["b"]]


@app.activity_trigger(input_name="payload")
def nothing(payload) -> None:
    return None


@app.activity_trigger(input_name="payload")
def failing_activity(payload: str) -> str:
    raise KeyError(f"no such key: {payload}")


@app.orchestration_trigger(context_name="context")
def orchestrator(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("hello", context.get_input())
    return [first]


@app.orchestration_trigger(context_name="context")
def failing_orchestrator(context: df.DurableOrchestrationContext):
    raise RuntimeError("the orchestrator failed at once")
    yield  # a generator, as orchestrators are


@app.entity_trigger(context_name="context")
def counter(context: df.DurableEntityContext):
    value = context.get_state(lambda: 0)
    if context.operation_name == "add":
        value += context.get_input()
        context.set_state(value)
    elif context.operation_name == "get":
        context.set_result(value)


@app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer", run_on_startup=False)
def tick(timer: func.TimerRequest) -> None:
    if not timer.past_due:
        return None


@app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer", run_on_startup=False)
def tick_returns(timer: func.TimerRequest) -> None:
    return "a timer function has no $return binding"  # the worker refuses the value

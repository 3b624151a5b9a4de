"""Corners where real apps rely on what the Functions host and the Durable extension do (issue 21), in real devhost
processes: the durableClient binding on any trigger, function names that differ in case, the environment
`func start` gives, the Python worker's load-time check of parameters against bindings, route constraints."""
from __future__ import annotations

import json
import textwrap

import pytest



def write(root, files):
    root.mkdir(parents=True, exist_ok=True)
    (root / "host.json").write_text('{"version": "2.0"}')
    for path, content in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(content) if isinstance(content, dict) else textwrap.dedent(content)
        (root / path).write_text(text)
    return root


def start(host, name: str, body=None) -> str:
    """Start an instance through the extension's own webhook (these apps have no HTTP starter)."""
    response = host.http.post(host.url(f"/runtime/webhooks/durabletask/orchestrators/{name}"), json=body, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def orchestrator(calls: str) -> dict[str, str]:
    """An orchestrator `Main` that calls the activity `calls` with its input."""
    return {
        "Main/function.json": {"bindings": [{"name": "context", "type": "orchestrationTrigger", "direction": "in"}]},
        "Main/__init__.py": f'''
            import azure.durable_functions as df


            def orchestrator(context: df.DurableOrchestrationContext):
                return (yield context.call_activity("{calls}", "Tokyo"))


            main = df.Orchestrator.create(orchestrator)
        ''',
    }

CLIENT_IN_ACTIVITY = {
    **orchestrator("activity1"),
    "activity1/function.json": {"bindings": [{"name": "name", "type": "activityTrigger", "direction": "in"},
                                             {"name": "client", "type": "durableClient", "direction": "in"}]},
    "activity1/__init__.py": '''
        import azure.durable_functions as df


        async def main(name: str, client: str) -> str:
            running = await df.DurableOrchestrationClient(client).get_status_all()
            return f"{name} sees {[status.name for status in running]}"
    ''',
}


def test_an_activity_gets_its_durable_client_binding(devhost_factory, tmp_path):
    # the extension's durableClient is an ordinary input binding (DurableTaskExtension: AddBindingRule
    # <DurableClientAttribute>), filled whatever the trigger
    host = devhost_factory(write(tmp_path / "app", CLIENT_IN_ACTIVITY)).start()

    instance_id = start(host, "Main")
    status = host.wait(instance_id)

    assert (status["runtimeStatus"], status["output"]) == ("Completed", "Tokyo sees ['Main']"), status["output"]


def test_names_in_another_case_call_the_same_functions_and_keep_the_callers_spelling(devhost_factory, tmp_path):
    # the extension's FunctionName ignores case; StartNewAsync keeps the name it was given
    host = devhost_factory(write(tmp_path / "app", {**CLIENT_IN_ACTIVITY, **orchestrator("Activity1")})).start()

    instance_id = start(host, "main")
    status = host.wait(instance_id)

    assert (status["name"], status["runtimeStatus"]) == ("main", "Completed"), status["output"]
    assert [e["FunctionName"] for e in host.history(instance_id) if e["EventType"] == "TaskCompleted"] == ["Activity1"]


ENVIRONMENT_APP = {
    "Env/function.json": {"bindings": [
        {"name": "req", "type": "httpTrigger", "direction": "in", "authLevel": "anonymous", "route": "env"},
        {"name": "$return", "type": "http", "direction": "out"}]},
    "Env/__init__.py": '''
        import json
        import os

        import azure.functions as func

        NAMES = ("AZURE_FUNCTIONS_ENVIRONMENT", "WEBSITE_HOSTNAME", "AzureWebJobsScriptRoot")


        def main(req: func.HttpRequest) -> func.HttpResponse:
            return func.HttpResponse(json.dumps({name: os.environ.get(name) for name in NAMES}))
    ''',
}


def test_the_app_sees_the_environment_func_start_gives(devhost_factory, tmp_path):
    # Core Tools' StartHostAction.GetConfigurationSettings: WEBSITE_HOSTNAME is the base URI's authority
    root = write(tmp_path / "app", ENVIRONMENT_APP)
    for in_process in (False, True):
        host = devhost_factory(root, extra_args=("--in-process",) if in_process else ()).start()

        seen = host.http.get(host.url("/api/env"), timeout=10).json()

        assert seen == {"AZURE_FUNCTIONS_ENVIRONMENT": "Development", "WEBSITE_HOSTNAME": f"localhost:{host.port}",
                        "AzureWebJobsScriptRoot": str(root.resolve())}, in_process
        host.stop()


def routed(route: str) -> dict:
    """An HTTP function `Item` on `route` that answers its route parameters."""
    return {
        "Item/function.json": {"bindings": [
            {"name": "req", "type": "httpTrigger", "direction": "in", "authLevel": "anonymous", "route": route},
            {"name": "$return", "type": "http", "direction": "out"}]},
        "Item/__init__.py": '''
            import json

            import azure.functions as func


            def main(req: func.HttpRequest) -> func.HttpResponse:
                return func.HttpResponse(json.dumps(dict(req.route_params)))
        ''',
    }


def test_a_request_that_fails_a_route_constraint_is_not_found(devhost_factory, tmp_path):
    # ASP.NET Core's router (the host's WebJobsRouter) checks every inline constraint: a failed one is no match
    host = devhost_factory(write(tmp_path / "app", routed("items/{id:int:range(1,99)}/{code:regex(^[a-z]{{3}}$)}"))
                           ).start()

    ok = host.http.get(host.url("/api/items/42/abc"), timeout=10)
    assert (ok.status_code, ok.json()) == (200, {"id": "42", "code": "abc"})
    for path in ("/api/items/100/abc", "/api/items/0/abc", "/api/items/42/abcd", "/api/items/x/abc"):
        assert host.http.get(host.url(path), timeout=10).status_code == 404, path


def test_a_route_the_router_cannot_build_stops_devhost_at_start_up(devhost_factory, tmp_path):
    # WebScriptHostHttpRoutesManager maps every route at start-up; an unresolvable constraint throws there
    host = devhost_factory(write(tmp_path / "app", routed("items/{id:number}")))

    with pytest.raises(RuntimeError, match="devhost exited with 2"):
        host.start()
    assert ("The constraint entry 'id' - 'number' on the route 'api/items/{id:number}' could not be resolved by the "
            "constraint resolver of type 'DefaultInlineConstraintResolver'.") in host.log()

"""The v2 quickstart (tests/apps/hello_v2: DFApp decorators in function_app.py) end to end over real HTTP, against
devhost in its own process: the same flow and the same answers as the folder model's Hello."""
from __future__ import annotations

from pathlib import Path

import requests

from devhost.testing import app_host

APP = Path(__file__).resolve().parents[1] / "apps" / "hello_v2"
GREETINGS = ["Hello Seattle", "Hello Tokyo", "Hello London"]
host = app_host(APP)


def test_the_start_up_lists_the_indexed_functions_like_the_folder_model(host):
    log = host.log()

    assert f"\thttp_start: [ALL] http://localhost:{host.port}/api/orchestrators/{{functionName}}" in log
    assert "\thello_orchestrator: orchestrationTrigger" in log and "\thello: activityTrigger" in log
    assert "not loaded" not in log


def test_post_start_returns_the_check_status_payload_and_completes(host):
    response = host.http_start("hello_orchestrator")

    assert response.status_code == 202
    body = response.json()
    assert response.headers["Location"] == body["statusQueryGetUri"]
    final = host.wait(body["id"])
    assert (final["runtimeStatus"], final["output"], final["name"]) == ("Completed", GREETINGS, "hello_orchestrator")
    assert requests.get(body["statusQueryGetUri"], timeout=10).json()["output"] == GREETINGS


def test_any_method_starts_it_as_the_route_declares_none(host):
    for method in ("GET", "PUT"):
        response = host.http_start("hello_orchestrator", method=method)
        assert response.status_code == 202, response.text
        assert host.wait(response.json()["id"])["output"] == GREETINGS


def test_the_history_names_the_v2_functions(host):
    instance_id = host.start_instance("hello_orchestrator")
    host.wait(instance_id)

    events = host.history(instance_id)

    assert [e["EventType"] for e in events] == ["ExecutionStarted", "TaskCompleted", "TaskCompleted",
                                                "TaskCompleted", "ExecutionCompleted"]
    assert [e["FunctionName"] for e in events[1:4]] == ["hello"] * 3
    assert [e["Result"] for e in events[1:4]] == GREETINGS


def test_an_unknown_orchestrator_fails_the_starter_and_the_webhook_names_the_v2_ones(host):
    assert host.http_start("NoSuchOrchestrator").status_code == 500
    response = requests.post(host.url("/runtime/webhooks/durabletask/orchestrators/NoSuchOrchestrator"), timeout=10)
    assert response.status_code == 400
    assert "'hello_orchestrator'" in response.json()["ExceptionMessage"]


def test_the_sdk_client_starts_and_reads_the_orchestration(host):
    instance_id = host.sdk(lambda client: client.start_new("hello_orchestrator"))

    assert host.wait(instance_id)["output"] == GREETINGS


def test_auth_levels_come_from_the_app_and_the_route_with_keys_required(devhost_factory, tmp_path):
    app = tmp_path / "auth_v2"
    app.mkdir()
    (app / "host.json").write_text('{"version": "2.0"}')
    (app / "function_app.py").write_text(
        "import azure.functions as func\n\n"
        "app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)\n\n\n"
        "@app.route(route='open')\ndef open_route(req: func.HttpRequest) -> str:\n    return 'open'\n\n\n"
        "@app.route(route='keyed', auth_level=func.AuthLevel.FUNCTION)\n"
        "def keyed_route(req: func.HttpRequest) -> str:\n    return 'keyed'\n")
    host = devhost_factory(app, require_key=True).start()

    assert requests.get(host.url("/api/open"), timeout=10).text == "open"
    assert requests.get(host.url("/api/keyed"), timeout=10).status_code == 401
    keyed = requests.get(host.url("/api/keyed"), params={"code": host.keys.function_keys[0]}, timeout=10)
    assert (keyed.status_code, keyed.text) == (200, "keyed")


def test_the_v2_app_runs_in_process_too(devhost_factory):
    host = devhost_factory(APP, extra_args=("--in-process",)).start()

    instance_id = host.start_instance("hello_orchestrator")

    assert host.wait(instance_id)["output"] == GREETINGS

"""The quickstart flow end to end over real HTTP, against devhost in its own process (or $DEVHOST_E2E_BASE_URL)."""
from __future__ import annotations

from pathlib import Path

import requests

from devhost.testing import app_host

GREETINGS = ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
WAITER = Path(__file__).resolve().parents[2] / "tests" / "apps" / "waiter"
waiter = app_host(WAITER)
MANAGEMENT_KEYS = {"id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "rewindPostUri",
                   "purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri"}


def test_post_start_returns_check_status_payload_and_completes(devhost):
    response = devhost.http_start()
    assert response.status_code == 202
    body = response.json()
    assert set(body) == MANAGEMENT_KEYS
    assert response.headers["Location"] == body["statusQueryGetUri"]
    assert response.headers["Retry-After"] == "10"
    assert body["statusQueryGetUri"].startswith(devhost.base_url.replace("127.0.0.1", "127.0.0.1") + "/runtime/webhooks/durabletask/instances/" + body["id"])
    final = devhost.wait(body["id"])
    assert final["runtimeStatus"] == "Completed"
    assert final["output"] == GREETINGS
    assert final["name"] == "HelloOrchestrator"
    assert final["instanceId"] == body["id"]
    # Polling the URL the user was given works as is, and a finished instance answers 200.
    polled = requests.get(body["statusQueryGetUri"], timeout=10)
    assert polled.status_code == 200
    assert polled.json()["output"] == GREETINGS


def test_get_start_works_too(devhost):
    response = devhost.http_start(method="GET")
    assert response.status_code == 202
    assert devhost.wait(response.json()["id"])["output"] == GREETINGS


def test_running_instance_answers_202_with_location(waiter):
    """Hello finishes too fast to be seen running, so this uses the Waiter app, whose orchestrator is Running
    until it receives the event "go"."""
    instance_id = waiter.start_instance("Waiter", {"n": 1})
    waiter.wait(instance_id, statuses=("Running",))

    running = waiter.status_response(instance_id)

    assert running.status_code == 202
    assert (running.json()["runtimeStatus"], running.json()["customStatus"]) == ("Running", "waiting")
    assert running.headers["Retry-After"] == "5"
    assert running.headers["Location"] == running.url  # the URL that was polled, query string included
    assert waiter.raise_event(instance_id, "go", "now").status_code == 202
    waiter.wait(instance_id)
    done = waiter.status_response(instance_id)
    assert (done.status_code, done.json()["output"]) == (200, {"input": {"n": 1}, "event": "now"})
    assert "Location" not in done.headers and "Retry-After" not in done.headers


def test_show_history(devhost):
    instance_id = devhost.start_instance()
    devhost.wait(instance_id)
    body = devhost.status(instance_id, showHistory=True, showHistoryOutput=True)
    kinds = [e["EventType"] for e in body["historyEvents"]]
    assert kinds == ["ExecutionStarted", "TaskCompleted", "TaskCompleted", "TaskCompleted", "ExecutionCompleted"]
    assert [e["FunctionName"] for e in body["historyEvents"][1:4]] == ["Hello"] * 3
    assert [e["Result"] for e in body["historyEvents"][1:4]] == GREETINGS
    assert body["historyEvents"][0]["FunctionName"] == "HelloOrchestrator"
    without_output = devhost.status(instance_id, showHistory=True)
    assert all("Result" not in e for e in without_output["historyEvents"])


def test_unknown_orchestrator(devhost):
    # Through the app's starter: start_new raises, so the function fails with 500.
    assert devhost.http_start("NoSuchOrchestrator").status_code == 500
    # Straight at the webhook: 400 with the host's message naming the known orchestrators.
    response = requests.post(devhost.url("/runtime/webhooks/durabletask/orchestrators/NoSuchOrchestrator"),
                             timeout=10)
    assert response.status_code == 400
    body = response.json()
    assert body["Message"] == "One or more of the arguments submitted is incorrect"
    assert body["ExceptionMessage"].startswith("The function 'NoSuchOrchestrator' doesn't exist, is disabled, "
                                               "or is not an orchestrator function.")
    assert "'HelloOrchestrator'" in body["ExceptionMessage"]


def test_unknown_instance_is_404_with_empty_body(devhost):
    response = devhost.status_response("no-such-instance")
    assert response.status_code == 404
    assert response.content == b""
    assert devhost.post_op("no-such-instance", "terminate", reason="x").status_code == 404
    assert devhost.raise_event("no-such-instance", "evt", {"a": 1}).status_code == 404


def test_finished_instance_rejects_terminate_and_events(devhost):
    instance_id = devhost.start_instance()
    devhost.wait(instance_id)
    assert devhost.post_op(instance_id, "terminate", reason="late").status_code == 410
    assert devhost.raise_event(instance_id, "evt", {"a": 1}).status_code == 410
    assert devhost.status(instance_id)["runtimeStatus"] == "Completed"


def test_purge(devhost):
    instance_id = devhost.start_instance()
    devhost.wait(instance_id)
    response = requests.delete(devhost.url(f"/runtime/webhooks/durabletask/instances/{instance_id}"), timeout=10)
    assert response.status_code == 200
    assert response.json() == {"instancesDeleted": 1}
    assert devhost.status_response(instance_id).status_code == 404
    again = requests.delete(devhost.url(f"/runtime/webhooks/durabletask/instances/{instance_id}"), timeout=10)
    assert again.status_code == 404


def test_query_lists_instances(devhost):
    ids = {devhost.start_instance() for _ in range(3)}
    for instance_id in ids:
        devhost.wait(instance_id)
    response = requests.get(devhost.url("/runtime/webhooks/durabletask/instances"),
                            params={"runtimeStatus": "Completed", "top": 1000}, timeout=10)
    assert response.status_code == 200
    listed = {item["instanceId"]: item for item in response.json()}
    assert ids <= set(listed)
    assert all(listed[i]["runtimeStatus"] == "Completed" for i in ids)
    running = requests.get(devhost.url("/runtime/webhooks/durabletask/instances"),
                           params={"runtimeStatus": "Running"}, timeout=10).json()
    assert not ids & {item["instanceId"] for item in running}


def test_the_sdk_client_starts_and_reads_the_orchestration(devhost):
    instance_id = devhost.sdk(lambda client: client.start_new("HelloOrchestrator"))
    assert devhost.wait(instance_id)["output"] == GREETINGS

    async def status(client):
        return await client.get_status(instance_id, show_history=True, show_history_output=True)

    status = devhost.sdk(status)
    assert status.runtime_status.value == "Completed"
    assert status.output == GREETINGS
    assert [e["EventType"] for e in status.historyEvents] == [
        "ExecutionStarted", "TaskCompleted", "TaskCompleted", "TaskCompleted", "ExecutionCompleted"]

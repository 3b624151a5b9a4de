"""Bad input over real HTTP (tests/apps/waiter): malformed JSON, wrong content types, odd ids, unknown routes and
huge bodies get the host's status codes, the host keeps serving, and nothing stored changes."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from devhost.testing import DevhostProcess

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "tests" / "apps" / "waiter"
WEBHOOK = "/runtime/webhooks/durabletask"
ARGUMENT_ERROR = "One or more of the arguments submitted is incorrect"


@pytest.fixture(scope="module")
def host() -> Iterator[DevhostProcess]:
    with DevhostProcess(APP) as running:
        yield running


def snapshot(host: DevhostProcess, instance_id: str) -> dict[str, Any]:
    """Everything the host shows about an instance."""
    response = host.status(instance_id, showHistory=True, showHistoryOutput=True, showInput=True)
    return {"code": response.status_code, "body": response.json()}


def listing(host: DevhostProcess) -> list[dict[str, Any]]:
    response = host.http.get(host.url(f"{WEBHOOK}/instances"), params={"top": 1000, "showInput": "true"},
                             timeout=10)
    return sorted(response.json(), key=lambda item: item["instanceId"])


@pytest.fixture
def waiting(host: DevhostProcess) -> str:
    """A Running Waiter instance, and afterwards proof that the host still serves: it completes on a good event."""
    response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Waiter"), json={"n": 1}, timeout=10)
    instance_id = response.json()["id"]
    host.wait(instance_id, statuses=("Running",))
    yield instance_id
    assert host.raise_event(instance_id, "go", "fine").status_code == 202
    assert host.wait(instance_id)["output"] == {"input": {"n": 1}, "event": "fine"}


def assert_argument_error(response: requests.Response, message: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["Message"] == ARGUMENT_ERROR
    assert message in body["ExceptionMessage"]


# -- malformed JSON and content types ------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [b"{not json", b'{"a": 1', b"\xff\xfe\x00", b"NaNa", b"}"])
def test_start_with_malformed_json_is_400_and_creates_nothing(host, body):
    before = listing(host)
    response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Quick"), data=body,
                              headers={"Content-Type": "application/json"}, timeout=10)
    assert_argument_error(response, "Invalid JSON content")
    assert listing(host) == before


def test_the_apps_starter_fails_on_malformed_json(host):
    before = listing(host)
    response = host.http.post(host.url("/api/orchestrators/Quick"), data=b"{oops",
                              headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 500  # req.get_json() raises in the user's function
    assert listing(host) == before


@pytest.mark.parametrize("content_type, body, message", [
    ("text/plain", b'"go"', "Only application/json request content is supported"),
    ("application/x-www-form-urlencoded", b"a=1", "Only application/json request content is supported"),
    (None, b"", "Only application/json request content is supported"),
    ("application/json", b"", "Invalid JSON content"),
    ("application/json", b"{nope", "Invalid JSON content"),
])
def test_raise_event_with_the_wrong_body_changes_nothing(host, waiting, content_type, body, message):
    before = snapshot(host, waiting)
    headers = {"Content-Type": content_type} if content_type else {}
    response = host.http.post(host.url(f"{WEBHOOK}/instances/{waiting}/raiseEvent/go"), data=body, headers=headers,
                              timeout=10)
    assert_argument_error(response, message)
    assert snapshot(host, waiting) == before


def test_raise_event_takes_json_with_a_charset(host, waiting):
    response = host.http.post(host.url(f"{WEBHOOK}/instances/{waiting}/raiseEvent/other"), data=b'{"x": 1}',
                              headers={"Content-Type": "application/json; charset=utf-8"}, timeout=10)
    assert response.status_code == 202


def test_unknown_or_finished_instances_answer_before_the_body_is_judged(host):
    response = host.http.post(host.url(f"{WEBHOOK}/instances/no-such-instance/raiseEvent/go"), data=b"{nope",
                              headers={"Content-Type": "text/plain"}, timeout=10)
    assert response.status_code == 404 and response.content == b""


def test_bad_query_values_change_nothing(host, waiting):
    before = snapshot(host, waiting)
    too_slow = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Quick"), params={"timeout": "soon",
                                                                                  "pollingInterval": 1},
                              json={"n": 1}, timeout=10)
    assert_argument_error(too_slow, "timeout")
    assert host.http.get(host.url(f"{WEBHOOK}/instances"), params={"runtimeStatus": "Asleep"},
                         timeout=10).status_code == 400
    assert snapshot(host, waiting) == before


# -- ids and routes --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("odd_id", ["x" * 300, "%01", "@counter@k", "a%2Fb"])
def test_odd_ids_on_status_and_operations_are_404(host, odd_id):
    assert host.http.get(host.url(f"{WEBHOOK}/instances/{odd_id}"), timeout=10).status_code == 404
    for operation in ("terminate", "suspend", "resume", "rewind"):
        response = host.http.post(host.url(f"{WEBHOOK}/instances/{odd_id}/{operation}"), timeout=10)
        assert response.status_code == 404 and response.content == b""


@pytest.mark.parametrize("method, path", [
    ("GET", f"{WEBHOOK}/nope"), ("POST", f"{WEBHOOK}/instances/i/bogus"), ("GET", f"{WEBHOOK}/orchestrators/Quick"),
    ("PUT", f"{WEBHOOK}/instances/i"), ("GET", "/durabletask/nope"), ("GET", "/api/no-such-function"),
    ("GET", "/api/orchestrators/Quick"),  # the starter takes POST only
    ("GET", "/nothing/here"),
])
def test_unknown_routes_are_404_with_an_empty_body(host, method, path):
    response = host.http.request(method, host.url(path), timeout=10)
    assert response.status_code == 404
    assert response.content == b""


def test_unknown_orchestrator_is_400_naming_the_known_ones(host):
    response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/NoSuch"), json={"n": 1}, timeout=10)
    assert_argument_error(response, "The function 'NoSuch' doesn't exist, is disabled, or is not an orchestrator "
                                    "function.")
    assert "'Waiter'" in response.json()["ExceptionMessage"]


# -- sizes -----------------------------------------------------------------------------------------------------
def test_a_2_mb_input_round_trips(host):
    big = {"blob": "x" * (2 * 1024 * 1024), "list": list(range(1000))}
    response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Quick"), data=json.dumps(big),
                              headers={"Content-Type": "application/json"}, timeout=30)
    final = host.wait(response.json()["id"], timeout=30)
    assert final["output"] == big and final["input"] == big


def test_a_body_over_100_mb_is_413_and_the_host_keeps_serving(host, waiting):
    before = listing(host)

    def chunks() -> Iterator[bytes]:  # streamed, so the test never holds 100 MB
        block = b" " * (1024 * 1024)
        for _ in range(101):
            yield block

    for path in (f"{WEBHOOK}/orchestrators/Quick", f"{WEBHOOK}/instances/{waiting}/raiseEvent/go",
                 "/api/orchestrators/Quick"):
        response = host.http.post(host.url(path), data=chunks(), headers={"Content-Type": "application/json"},
                                  timeout=30)
        assert response.status_code == 413, path
    assert listing(host) == before
    assert host.http.get(host.url("/admin/host/status"), timeout=10).status_code == 200

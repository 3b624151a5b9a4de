"""Bad input over real HTTP (tests/apps/waiter): malformed JSON, wrong content types, odd ids, unknown routes and
huge bodies get the host's status codes, the host keeps serving, and nothing stored changes."""
from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from devhost.model import NewInstance
from devhost.protocol import history_events as events
from devhost.runtime.store.sqlite import SqliteStore
from devhost.testing import WEBHOOK, Client, DevhostProcess, app_host, poll, timestamp

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "tests" / "apps" / "waiter"
ARGUMENT_ERROR = "One or more of the arguments submitted is incorrect"


host = app_host(APP, time_travel=False)


def snapshot(host: Client, instance_id: str) -> dict[str, Any]:
    """Everything the host shows about an instance."""
    response = host.status_response(instance_id, showHistory=True, showHistoryOutput=True, showInput=True)
    return {"code": response.status_code, "body": response.json()}


def listing(host: Client) -> list[dict[str, Any]]:
    response = host.http.get(host.url(f"{WEBHOOK}/instances"), params={"top": 1000, "showInput": "true"},
                             timeout=10)
    return sorted(response.json(), key=lambda item: item["instanceId"])


@pytest.fixture
def waiting(host: Client) -> str:
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


def assert_json_reader_error(response: requests.Response, reason: str = "") -> None:
    """The extension's answer for a body its JSON reader refuses (Newtonsoft's MaxDepth is 64)."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["Message"] == "Invalid JSON content"
    assert body["ExceptionType"] == "Newtonsoft.Json.JsonReaderException"
    assert reason in body["ExceptionMessage"]


def assert_message_only(response: requests.Response, message: str) -> None:
    """The extension's 400 without an exception: {"Message": ...} alone."""
    assert response.status_code == 400, response.text
    assert response.json() == {"Message": message}


# -- malformed JSON and content types ------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [b"{not json", b'{"a": 1', b"\xff\xfe\x00", b"NaNa", b"}"])
def test_start_with_malformed_json_is_400_and_creates_nothing(host, body):
    before = listing(host)
    response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Quick"), data=body,
                              headers={"Content-Type": "application/json"}, timeout=10)
    assert_json_reader_error(response)
    assert listing(host) == before


def test_the_apps_starter_fails_on_malformed_json(host):
    before = listing(host)
    response = host.http.post(host.url("/api/orchestrators/Quick"), data=b"{oops",
                              headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 500  # req.get_json() raises in the user's function
    assert listing(host) == before


@pytest.mark.parametrize("content_type, body", [
    ("text/plain", b'"go"'), ("application/x-www-form-urlencoded", b"a=1"), (None, b""),
    ("application/json", b""), ("application/json", b"{nope"),
])
def test_raise_event_with_the_wrong_body_changes_nothing(host, waiting, content_type, body):
    before = snapshot(host, waiting)
    headers = {"Content-Type": content_type} if content_type else {}
    response = host.http.post(host.url(f"{WEBHOOK}/instances/{waiting}/raiseEvent/go"), data=body, headers=headers,
                              timeout=10)
    if content_type == "application/json":
        assert_json_reader_error(response)
    else:
        assert_message_only(response, "Only application/json request content is supported")
    assert snapshot(host, waiting) == before


def test_raise_event_takes_json_with_a_charset(host, waiting):
    response = host.http.post(host.url(f"{WEBHOOK}/instances/{waiting}/raiseEvent/other"), data=b'{"x": 1}',
                              headers={"Content-Type": "application/json; charset=utf-8"}, timeout=10)
    assert response.status_code == 202


def test_unknown_or_finished_instances_answer_before_the_body_is_judged(host):
    response = host.http.post(host.url(f"{WEBHOOK}/instances/no-such-instance/raiseEvent/go"), data=b"{nope",
                              headers={"Content-Type": "text/plain"}, timeout=10)
    assert response.status_code == 404 and response.content == b""


def test_query_values_the_extension_cannot_parse_are_left_out(host, waiting):
    """HttpApiHandler reads timeout with double.TryParse and runtimeStatus with Enum.TryParse: a value that fails
    is none. So the start does not wait (the check-status 202) and the listing is unfiltered (devhost answered 400
    to both before)."""
    before = snapshot(host, waiting)
    started = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Quick"), params={"timeout": "soon",
                                                                                 "pollingInterval": 1},
                             json={"n": 1}, timeout=10)
    assert started.status_code == 202 and host.wait(started.json()["id"])["runtimeStatus"] == "Completed"
    listed = host.http.get(host.url(f"{WEBHOOK}/instances"), params={"runtimeStatus": "Asleep", "top": 1000},
                           timeout=10)
    assert listed.status_code == 200 and started.json()["id"] in [s["instanceId"] for s in listed.json()]
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


# -- deep JSON and out-of-range query values (issue 7, item 4) -------------------------------------------------
def nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


@pytest.mark.parametrize("levels", [65, 990, 5000])
def test_deeply_nested_json_is_400_everywhere_and_reads_keep_working(host, waiting, levels):
    before = listing(host), snapshot(host, waiting)
    json_type = {"Content-Type": "application/json"}
    for path in (f"{WEBHOOK}/orchestrators/Quick", f"{WEBHOOK}/orchestrators/Quick/deep-{levels}",
                 f"{WEBHOOK}/instances/{waiting}/raiseEvent/go"):
        assert_json_reader_error(host.http.post(host.url(path), data=nested(levels), headers=json_type, timeout=10),
                                 "MaxDepth of 64")
    entity = host.http.post(host.url(f"{WEBHOOK}/entities/Counter/deep"), params={"op": "add"},
                            data=nested(levels), headers=json_type, timeout=10)
    assert entity.status_code == 400 and "MaxDepth of 64" in entity.json()["Message"]
    assert (listing(host), snapshot(host, waiting)) == before
    assert host.status_response(f"deep-{levels}").status_code == 404


def test_json_nested_64_levels_is_taken(host):
    body = b'{"a":' * 64 + b"1" + b"}" * 64  # an object: get_input() cannot decode a bare list, in Azure as here
    response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Quick"), data=body,
                              headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 202
    assert host.wait(response.json()["id"])["output"] == json.loads(body)


def test_deep_values_already_in_the_store_never_fail_a_read(tmp_path):
    """A store written before the limit existed (or a user function's deep output) holds JSON nested 990 levels:
    status, history and the unfiltered list still answer 200 and show it as its text."""
    deep = nested(990).decode()
    store = SqliteStore(tmp_path / "store.sqlite")
    now = timestamp("2026-01-01T00:00:00Z")
    started = events.execution_started(now, "deep", "e1", "Waiter", deep)
    store.create_instance(NewInstance("deep", "Waiter", "e1", deep, None, started), now.timestamp())
    store.close()
    with DevhostProcess(APP, store=tmp_path / "store.sqlite") as running:
        running.wait("deep", statuses=("Running",))
        status = running.status_response("deep", showHistory=True, showHistoryOutput=True)
        assert status.status_code == 202 and status.json()["input"] == deep
        everything = running.http.get(running.url(f"{WEBHOOK}/instances"), timeout=10)
        assert everything.status_code == 200 and [i["input"] for i in everything.json()] == [deep]
        # The orchestrator gets the stored text; the SDK's get_input() cannot decode it (user code fails, as data).
        assert running.raise_event("deep", "go", "fine").status_code == 202
        assert running.wait("deep")["runtimeStatus"] in ("Completed", "Failed")
        assert running.status_response("deep", showHistory=True, showHistoryOutput=True).status_code == 200


@pytest.mark.parametrize("params", [
    {"top": "99999999999999999999"}, {"top": "-99999999999999999999"}, {"top": "ten"},
    {"createdTimeFrom": "0001-01-01T00:00:00+01:00"}, {"createdTimeTo": "9999-12-31T23:59:59-01:00"},
    {"createdTimeFrom": "yesterday"}, {"runtimeStatus": "running"},
])
def test_query_values_out_of_range_or_unparseable_are_ignored(host, waiting, params):
    """The extension reads them with int.TryParse, DateTime.TryParse and Enum.TryParse (case-sensitive) and leaves
    out what fails: the listing is the unfiltered one (devhost answered 400 before)."""
    before = snapshot(host, waiting)
    response = host.http.get(host.url(f"{WEBHOOK}/instances"), params=params, timeout=10)
    assert response.status_code == 200, response.text
    assert waiting in [s["instanceId"] for s in response.json()]
    if "createdTimeFrom" in params:  # purge by filter needs one it can read: its 400 is a JSON string
        purge = host.http.delete(host.url(f"{WEBHOOK}/instances"), params=params, timeout=10)
        assert (purge.status_code, purge.json()) == (400, "Please provide value for 'createdTimeFrom' parameter.")
    assert snapshot(host, waiting) == before


@pytest.mark.parametrize("decoded", [b"[1]", b'{"a": 1}', b'[[1], ["x"]]', b'["x", 5]', b'[1, {"a": 1}]',
                                     b'[1e999, "x"]', b"\xff\xfe", b'"text"'])
def test_continuation_tokens_of_the_wrong_shape_are_400(host, decoded):
    token = base64.urlsafe_b64encode(decoded).decode()
    response = host.http.get(host.url(f"{WEBHOOK}/instances"), headers={"x-ms-continuation-token": token},
                             timeout=10)
    assert_argument_error(response, "The continuation token is not one this host gave out.")


# -- the request body size limit (issue 7, item 5) --------------------------------------------------------------
@pytest.fixture(scope="module")
def small_limit(tmp_path_factory) -> Iterator[DevhostProcess]:
    """A host whose app sets FUNCTIONS_REQUEST_BODY_SIZE_LIMIT to 4,096 bytes."""
    store = tmp_path_factory.mktemp("limit") / "store.sqlite"
    with DevhostProcess(APP, store=store, env={"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": "4096"}) as running:
        yield running


def test_a_body_over_the_limit_is_refused_from_its_content_length_before_it_is_sent(small_limit):
    """Headers announcing 10 MB and no body: the 413 comes at once, so nothing of the body is read or held."""
    with socket.create_connection(("127.0.0.1", small_limit.port), timeout=5) as conn:
        conn.sendall(f"POST {WEBHOOK}/orchestrators/Quick HTTP/1.1\r\nHost: 127.0.0.1:{small_limit.port}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {10 * 1024 * 1024}\r\n\r\n".encode())
        answer = conn.recv(200)
    assert answer.startswith(b"HTTP/1.1 413"), answer


@pytest.mark.parametrize("path", [f"{WEBHOOK}/orchestrators/Quick", f"{WEBHOOK}/instances/any/raiseEvent/go",
                                  f"{WEBHOOK}/entities/Counter/k", "/api/orchestrators/Quick"])
def test_the_limit_applies_to_every_route_and_the_host_keeps_serving(small_limit, path):
    over = json.dumps({"blob": "x" * 5000})
    response = small_limit.http.post(small_limit.url(path), data=over,
                                     headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 413
    chunked = small_limit.http.post(small_limit.url(path), data=iter([over.encode()]),
                                    headers={"Content-Type": "application/json"}, timeout=10)
    assert chunked.status_code == 413
    under = small_limit.http.post(small_limit.url(f"{WEBHOOK}/orchestrators/Quick"),
                                  data=json.dumps({"blob": "x" * 4000}), headers={"Content-Type": "application/json"},
                                  timeout=10)
    assert under.status_code == 202
    assert small_limit.wait(under.json()["id"])["runtimeStatus"] == "Completed"


def test_a_limit_that_is_not_a_number_of_bytes_stops_the_host_with_a_clear_line(tmp_path):
    host = DevhostProcess(APP, store=tmp_path / "store.sqlite", env={"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": "lots"})
    with pytest.raises(RuntimeError, match="devhost: FUNCTIONS_REQUEST_BODY_SIZE_LIMIT must be a number of bytes"):
        host.start()
    host.close()


# -- hostile input (issue 19) ------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b'{"n": NaN}'])
def test_numbers_json_cannot_hold_are_400_everywhere_and_change_nothing(host, waiting, body):
    before = listing(host), snapshot(host, waiting)
    json_type = {"Content-Type": "application/json"}
    for path in (f"{WEBHOOK}/orchestrators/Quick", f"{WEBHOOK}/orchestrators/Quick/nan-start",
                 f"{WEBHOOK}/instances/{waiting}/raiseEvent/go"):
        assert_json_reader_error(host.http.post(host.url(path), data=body, headers=json_type, timeout=10),
                                 "is not a JSON value")
    entity = host.http.post(host.url(f"{WEBHOOK}/entities/Counter/nan"), params={"op": "add"}, data=body,
                            headers=json_type, timeout=10)
    assert entity.status_code == 400 and "is not a JSON value" in entity.json()["Message"]
    assert (listing(host), snapshot(host, waiting)) == before
    assert host.status_response("nan-start").status_code == 404


@pytest.mark.parametrize("decoded", [b'[1.5, "\\ud800"]', b'[%d, "x"]' % 2**64, b"[" * 2000 + b"]" * 2000],
                         ids=["lone-surrogate", "int-beyond-64-bits", "deep"])
@pytest.mark.parametrize("path", [f"{WEBHOOK}/instances", f"{WEBHOOK}/entities"])
def test_hostile_continuation_tokens_are_400(host, waiting, path, decoded):
    before = snapshot(host, waiting)
    token = base64.urlsafe_b64encode(decoded if "entities" not in path else decoded.replace(b"1.5, ", b"")).decode()
    response = host.http.get(host.url(path), headers={"x-ms-continuation-token": token}, timeout=10)
    assert_argument_error(response, "The continuation token is not one this host gave out.")
    assert snapshot(host, waiting) == before


def test_rewind_of_an_instance_whose_failed_child_has_its_own_id_answers_and_the_host_keeps_serving(tmp_path):
    """The engine refuses a sub-orchestration whose id is taken; the parent's own id is, so the parent fails with a
    failed child that is itself. Rewinding it rewinds it once (it then waits for that child, which never comes)."""
    app = tmp_path / "app"
    (app / "OwnChild").mkdir(parents=True)
    (app / "host.json").write_text((APP / "host.json").read_text())
    (app / "OwnChild" / "function.json").write_text((APP / "Quick" / "function.json").read_text())
    (app / "OwnChild" / "__init__.py").write_text(
        "import azure.durable_functions as df\n\n\n"
        "def orchestrator_function(context):\n"
        "    return (yield context.call_sub_orchestrator('OwnChild', None, context.instance_id))\n\n\n"
        "main = df.Orchestrator.create(orchestrator_function)\n")
    with DevhostProcess(app, store=tmp_path / "store.sqlite") as running:
        started = running.http.post(running.url(f"{WEBHOOK}/orchestrators/OwnChild/loop"), timeout=10)
        assert started.status_code == 202
        assert "already exists" in running.wait("loop")["output"]
        rewound = running.post_op("loop", "rewind", reason="again")
        assert rewound.status_code == 202, rewound.text
        poll(lambda: running.status("loop")["runtimeStatus"] == "Running", what="the rewound instance")
        assert "RecursionError" not in running.log()
        assert running.http.get(running.url("/admin/host/status"), timeout=10).status_code == 200


# -- bodies that come slowly, stall or go away (issue 19) ----------------------------------------------------------
def open_body(port: int, path: str, headers: str, first: bytes = b"") -> socket.socket:
    """The attacking client: sends its request line and headers and the start of its body, and no more by itself."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    conn.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n{headers}"
                 f"\r\n".encode() + first)
    return conn


def status_line(conn: socket.socket) -> bytes:
    """The status line of the answer, once the whole answer has come and the host closed the connection (recv
    returns b"" then; a socket timeout fails the test)."""
    answer = b""
    while chunk := conn.recv(4096):
        answer += chunk
    return answer.split(b"\r\n", 1)[0]


def answered_promptly(host: Client, waiting: str) -> None:
    """Every kind of request with a body is answered within a few seconds while the attacker holds its body open."""
    started = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Quick"), json={"n": 2}, timeout=4)
    assert started.status_code == 202
    assert host.http.post(host.url(f"{WEBHOOK}/instances/{waiting}/raiseEvent/other"), json=1,
                          timeout=4).status_code == 202
    signal = host.http.post(host.url(f"{WEBHOOK}/entities/Counter/busy"), params={"op": "add"}, json=1, timeout=4)
    assert "is not an entity function" in signal.json()["Message"]  # the app has none: its body was read first
    assert host.http.post(host.url("/api/orchestrators/Quick"), json={"n": 3}, timeout=4).status_code == 202
    assert host.wait(started.json()["id"])["output"] == {"n": 2}


BUDGET = 16 * 1024 * 1024  # the host's body budget: a body that announces it used to hold all of it


@pytest.mark.parametrize("headers, first", [
    ("Transfer-Encoding: chunked\r\n", b"1\r\n{\r\n"),
    (f"Content-Length: {BUDGET}\r\n", b"{"),
], ids=["chunked", "announces-the-whole-budget"])
def test_a_stalled_body_holds_up_nobody_and_is_answered_408(host, waiting, headers, first):
    with open_body(host.port, f"{WEBHOOK}/orchestrators/Quick/stalled", headers, first) as attacker:
        answered_promptly(host, waiting)
        # after Kestrel's 5 s grace, and the connection closed (status_line reads to its end)
        assert status_line(attacker) == b"HTTP/1.1 408 Request Timeout"
    assert host.status_response("stalled").status_code == 404


def test_a_body_that_trickles_below_the_minimum_rate_holds_up_nobody_and_is_answered_408(host, waiting):
    with open_body(host.port, f"{WEBHOOK}/orchestrators/Quick/trickled", f"Content-Length: {BUDGET}\r\n",
                   b"[") as attacker:
        attacker.settimeout(0.5)
        answer = b""
        for _ in range(60):  # the attacker's own pace: a byte every half second, 2 bytes a second
            try:
                attacker.sendall(b" ")
                answer = attacker.recv(200)
            except socket.timeout:
                answered_promptly(host, waiting)
                continue
            except OSError:  # the host closed the connection while a byte was on its way
                break
            break
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert host.status_response("trickled").status_code == 404


def test_a_create_and_wait_start_whose_client_is_gone_holds_up_nobody(host, waiting):
    """A start that waits up to a minute for an instance that never finishes, its client gone: other bodies of the
    whole budget's size are still read."""
    with open_body(host.port, f"{WEBHOOK}/orchestrators/Waiter/long-wait?timeout=60&pollingInterval=60",
                   "Content-Length: 8\r\n", b'{"n": 1}'):
        poll(lambda: host.status_response("long-wait").status_code == 202, what="the create-and-wait start")
    big = json.dumps({"blob": "x" * (BUDGET - 16)})  # 4 bytes short of the budget: no room beside those 8
    assert len(big) == BUDGET - 4
    response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Quick"), data=big,
                              headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 202
    assert host.post_op("long-wait", "terminate", reason="done").status_code == 202


def test_a_client_that_goes_away_mid_body_is_one_quiet_line(host):
    logged = len(host.log())
    with open_body(host.port, f"{WEBHOOK}/orchestrators/Quick/gone", "Content-Length: 100\r\n", b'{"a": '):
        pass
    line = poll(lambda: next((l for l in host.log()[logged:].splitlines() if "went away" in l), None),
                what="the line about the client that went away")
    assert "POST /runtime/webhooks/durabletask/orchestrators/Quick/gone" in line
    assert "Traceback" not in host.log()[logged:]
    assert host.status_response("gone").status_code == 404

"""devhost.web.server: every route of the management API on both base paths, and the app's HTTP functions, served by the
real aiohttp app (aiohttp's TestServer, in a background event loop) over a real store and called with requests.
Instances are moved between states through the store, so each status code is reached without running code."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import azure.functions as func
import pytest
import requests
from aiohttp.test_utils import TestServer
from loop_thread import LoopThread

import devhost
from devhost.app.bindings import Invocation
from devhost.app.loader import LoadedFunction
from devhost.app.route_templates import compile_route
from devhost.clock import Clock
from devhost.model import PROGRESSING_STATUSES, TERMINAL_STATUSES, Binding, EpisodeOutcome, FunctionSpec, RuntimeStatus
from devhost.protocol import history_events as ev
from devhost.runtime.operations import Operations
from devhost.runtime.store.sqlite import SqliteStore
from devhost.testing import poll
from devhost.web.bodies import ByteBudget, MinDataRate
from devhost.web.server import DASHBOARD_FILES, RPC, SECURITY_HEADERS, WEBHOOK, DurableApi, FunctionRoutes, make_app

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
BASES = [WEBHOOK, RPC]
DEVHOST_FOLDER = os.path.dirname(os.path.abspath(devhost.__file__))
ERROR_KEYS = ["Message", "ExceptionMessage", "ExceptionType", "StackTrace"]


class FixedClock(Clock):
    def time(self) -> float:
        return T0.timestamp() + self.offset


# -- the app's own HTTP functions ----------------------------------------------------------------
def http_function(name: str, main: Callable[..., Any], route: str, methods: list[str] | None = None,
                  extra: tuple[tuple[str, str, str], ...] = (("$return", "http", "out"),)) -> tuple:
    trigger = Binding("req", "httpTrigger", "in", {"route": route, "methods": methods or []})
    bindings = (trigger,) + tuple(Binding(n, t, d) for n, t, d in extra)
    spec = FunctionSpec(name, f"/app/{name}", "__init__.py", "main", bindings)
    return compile_route(route), frozenset(m.lower() for m in methods or []), Invocation(LoadedFunction(spec, main))


def echo(req: func.HttpRequest) -> func.HttpResponse:
    body = {"method": req.method, "route": dict(req.route_params), "query": dict(req.params),
            "body": req.get_body().decode(), "header": req.headers.get("x-test")}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


def teapot(req: func.HttpRequest, res: func.Out[func.HttpResponse]) -> None:
    response = func.HttpResponse("short and stout", status_code=418, headers={"X-Brew": "earl grey"})
    response.headers.add("Set-Cookie", "sugar=2; Path=/")
    res.set(response)


def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("user code failed")


async def client(req: func.HttpRequest, starter: str) -> func.HttpResponse:
    return func.HttpResponse(starter, mimetype="application/json")


FUNCTIONS = [
    http_function("Echo", echo, "echo/{name}/{id:int?}", ["get", "post"]),
    http_function("Teapot", teapot, "teapot", extra=(("res", "http", "out"),)),
    http_function("Boom", boom, "boom"),
    http_function("Client", client, "client", extra=(("$return", "http", "out"), ("starter", "durableClient", "in"))),
]
CLIENT_PAYLOAD = '{"taskHubName":"TestHubName","rpcBaseUrl":"http://127.0.0.1:1/durabletask/"}'


class ApiServer(LoopThread):
    """The aiohttp app over a real store in tmp_path, served on a loopback port from a background event loop.
    hand_on only records; `call` runs a function on the loop's thread (the store's only user)."""

    def __init__(self, store_path: Path, durable_options: dict[str, Any] | None = None, **app_options: Any) -> None:
        self.handed: list[tuple[list, list]] = []
        self.complete_on_start: str | None = None  # output to finish new instances with, as if they ran at once
        super().__init__()
        self.http = requests.Session()
        self.store: SqliteStore = self.call(lambda: SqliteStore(store_path))
        self.ops = Operations(self.store, lambda: ["HelloOrchestrator", "Other"], FixedClock(), self._hand_on)
        app = make_app(DurableApi(self.ops, "TestHubName", **(durable_options or {})),
                       FunctionRoutes(FUNCTIONS, lambda: CLIENT_PAYLOAD), "api",
                       self.store.durable, **app_options)
        self.server = TestServer(app, host="127.0.0.1")
        self._await(self.server.start_server())
        self.base = str(self.server.make_url("")).rstrip("/")

    def _hand_on(self, works: list, messages: list) -> None:
        self.handed.append((works, messages))
        if self.complete_on_start is not None:  # already on the loop's thread: commit directly
            for m in messages:
                if m.event["EventType"] == 0:
                    self._commit(m.instance_id, RuntimeStatus.Completed, self.complete_on_start, [])

    def close(self) -> None:
        self.http.close()
        self._await(self.server.close())
        self.call(self.store.close)
        self.stop_loop()

    # -- requests ------------------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, self.base + path, timeout=30, allow_redirects=False, **kwargs)

    # -- state, as episodes would leave it -----------------------------------------------------------
    def start(self, instance_id: str, input_text: str | None = None) -> str:
        return self.call(lambda: self.ops.start("HelloOrchestrator", instance_id, input_text))

    def set_status(self, instance_id: str, status: RuntimeStatus, output: str | None = None,
                   history: list | None = None) -> None:
        self.call(lambda: self._commit(instance_id, status, output, history or []))

    def _commit(self, instance_id: str, status: RuntimeStatus, output: str | None, history: list) -> None:
        instance = self.store.get_instance(instance_id)
        self.store.commit_episode(instance, EpisodeOutcome(history, status, output=output), T0.timestamp())

    def instance(self, instance_id: str):
        return self.call(lambda: self.store.get_instance(instance_id))

    def inbox(self, instance_id: str) -> list[dict]:
        return [e for _, e in self.call(lambda: self.store.inbox(instance_id, None, float("inf"))[0])]


@pytest.fixture
def api(tmp_path):
    server = ApiServer(tmp_path / "store.sqlite")
    yield server
    server.close()


@pytest.fixture(params=BASES, ids=["webhook", "rpc"])
def base(request) -> str:
    return request.param


def assert_argument_error(response: requests.Response, message: str) -> None:
    """The extension's 400: ArgumentException as JSON."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert list(body) == ERROR_KEYS
    assert body["Message"] == "One or more of the arguments submitted is incorrect"
    assert body["ExceptionType"] == "System.ArgumentException"
    assert message in body["ExceptionMessage"]
    assert_no_host_path(body["StackTrace"])


def assert_no_host_path(stack: str) -> None:
    """devhost's frames stand where the host's own stand in the extension's answer, named from the package: the
    answer does not tell where devhost lies on this machine."""
    assert 'File "devhost/web/' in stack
    assert DEVHOST_FOLDER not in stack and os.path.realpath(DEVHOST_FOLDER) not in stack


def assert_json_reader_error(response: requests.Response) -> None:
    """The extension's 400 for a body its JSON reader refuses: Newtonsoft's JsonReaderException."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert list(body) == ERROR_KEYS
    assert body["Message"] == "Invalid JSON content"
    assert body["ExceptionType"] == "Newtonsoft.Json.JsonReaderException" and body["ExceptionMessage"]


def assert_empty(response: requests.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.content == b""


# -- start ------------------------------------------------------------------------------------------
def test_start_answers_202_with_the_check_status_payload(api, base):
    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator", json={"a": 1})

    assert response.status_code == 202
    body = response.json()
    instance_id = body["id"]
    assert len(instance_id) == 32
    root = f"{api.base}{WEBHOOK}/instances/{instance_id}"
    common = "taskHub=TestHubName&connection=Storage"
    assert body == {"id": instance_id, "statusQueryGetUri": f"{root}?{common}",
                    "sendEventPostUri": f"{root}/raiseEvent/{{eventName}}?{common}",
                    "terminatePostUri": f"{root}/terminate?reason={{text}}&{common}",
                    "purgeHistoryDeleteUri": f"{root}?{common}", "restartPostUri": f"{root}/restart?{common}",
                    "suspendPostUri": f"{root}/suspend?reason={{text}}&{common}",
                    "resumePostUri": f"{root}/resume?reason={{text}}&{common}"}
    assert response.headers["Location"] == body["statusQueryGetUri"]
    assert response.headers["Retry-After"] == "10"
    assert api.instance(instance_id).input == '{"a": 1}'


def test_start_with_an_instance_id(api, base):
    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator/order-7")

    assert response.status_code == 202 and response.json()["id"] == "order-7"
    assert api.instance("order-7").status == RuntimeStatus.Pending


@pytest.mark.parametrize("path", ["/orchestrators/HelloOrchestrator/", "/orchestrators/HelloOrchestrator//"])
def test_a_trailing_slash_on_the_start_route_starts_with_a_new_id(api, base, path):
    """The extension's HttpApiHandler trims '/' from both ends of the path before it matches a route: the instance
    id is the route's default, empty, and StartNewAsync makes a new one."""
    response = api.request("POST", base + path)

    assert response.status_code == 202
    assert len(response.json()["id"]) == 32 and api.instance(response.json()["id"]) is not None


def test_trailing_slashes_reach_every_management_route(api, base):
    api.start("i", '"x"')

    assert api.request("POST", f"{base}/orchestrators/HelloOrchestrator/j/").json()["id"] == "j"
    assert api.request("GET", f"{base}/instances/i/").status_code == 202
    assert api.request("POST", f"{base}/instances/i/raiseEvent/go/", json=1).status_code == 202
    assert api.request("POST", f"{base}/instances/i/terminate/").status_code == 202


@pytest.mark.parametrize("method", ["POST", "GET", "DELETE", "PUT"])
def test_makeprimary_answers_an_empty_200_for_any_method(api, base, method):
    """HttpApiHandler's makeprimary route (any method) calls MakeCurrentAppPrimaryAsync: with the app lease, on by
    default, the Azure Storage provider takes the task hub's lease and the answer has no body."""
    response = api.request(method, f"{base}/makeprimary")

    assert (response.status_code, response.content) == (200, b"")
    assert api.request(method, f"{base}/makeprimary/").status_code == 200


def test_makeprimary_without_the_app_lease_is_the_clients_500(tmp_path):
    server = ApiServer(tmp_path / "store.sqlite", durable_options={"use_app_lease": False})
    try:
        response = server.request("POST", f"{WEBHOOK}/makeprimary")
    finally:
        server.close()

    assert response.status_code == 500
    body = response.json()
    assert (body["ExceptionType"], body["ExceptionMessage"]) == (
        "System.InvalidOperationException", "Cannot make current app primary. This app is not using the AppLease "
                                            "feature.")


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_an_entity_operation_without_a_name_is_400(api, base, method):
    """The extension's entity route takes the name as optional; EntityId refuses none (ArgumentNullException,
    answered with its message alone)."""
    for path in ("/entities", "/entities/"):
        response = api.request(method, base + path)

        assert response.status_code == 400
        assert response.json() == {"Message": "Invalid entity id: entity name must not be a null or empty string. "
                                              "(Parameter 'entityName')"}


def test_the_sdk_clients_double_encoded_input_is_stored_as_sent(api, base):
    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator/sdk",
                           data=json.dumps(json.dumps({"a": 1})), headers={"Content-Type": "application/json"})

    assert response.status_code == 202
    assert api.instance("sdk").input == '"{\\"a\\": 1}"'
    assert api.request("GET", f"{base}/instances/sdk").json()["input"] == '{"a": 1}'


def test_an_empty_octet_stream_body_is_no_input(api, base):
    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator/empty", data=b"",
                           headers={"Content-Type": "application/octet-stream"})

    assert response.status_code == 202 and api.instance("empty").input is None


def test_start_of_an_unknown_orchestrator_is_400_naming_the_known_ones(api, base):
    response = api.request("POST", f"{base}/orchestrators/Nope")

    assert_argument_error(response, "The function 'Nope' doesn't exist, is disabled, or is not an orchestrator "
                                    "function. Additional info: The following are the known orchestrator "
                                    "functions: 'HelloOrchestrator', 'Other'.")


@pytest.mark.parametrize("instance_id", ["@x", "a%2Fb", "a%23b", "a%3Fb", "a%5Cb", "a%01b", "x" * 257])
def test_start_with_an_invalid_instance_id_is_400(api, instance_id):
    response = api.request("POST", f"{RPC}/orchestrators/HelloOrchestrator/{instance_id}")

    assert_argument_error(response, "")
    assert "instance id" in response.json()["ExceptionMessage"].lower()
    assert api.request("GET", f"{RPC}/instances/").json() == []  # nothing was created


def test_start_over_a_running_instance_is_the_extension_3s_500(api, base):
    api.start("busy")

    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator/busy")

    assert response.status_code == 500
    body = response.json()
    assert list(body) == ERROR_KEYS and body["Message"] == "Something went wrong while processing your request"
    assert body["ExceptionType"] == "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException"
    assert body["ExceptionMessage"] == "An Orchestration instance with the status Pending already exists."


def test_start_with_a_body_that_is_not_json_is_400(api, base):
    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator", data=b"{not json",
                           headers={"Content-Type": "application/json"})

    assert_json_reader_error(response)


def test_start_and_wait_returns_the_output_when_the_instance_finishes_in_time(api, base):
    api.complete_on_start = '["Hello Tokyo!"]'

    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator/w?timeout=5&pollingInterval=1")

    assert response.status_code == 200 and response.json() == ["Hello Tokyo!"]


def test_start_and_wait_answers_202_when_the_timeout_passes(api, base):
    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator/w?timeout=0")

    assert response.status_code == 202 and response.json()["id"] == "w"


@pytest.mark.parametrize("query", ["timeout=soon", "timeout=5&pollingInterval=often"])
def test_start_with_a_timeout_double_try_parse_refuses_does_not_wait(api, query):
    """The extension reads timeout and pollingInterval with double.TryParse: a value that fails is none, and without
    both there is no wait: the check-status 202 (this was a 400 before; the extension starts and answers 202)."""
    response = api.request("POST", f"{RPC}/orchestrators/HelloOrchestrator/t?{query}")

    assert response.status_code == 202 and response.json()["id"] == "t"


@pytest.mark.parametrize("query", ["timeout=NaN&pollingInterval=1", "timeout=2&pollingInterval=5"])
def test_a_wait_the_extension_refuses_is_400_after_the_instance_started(api, query):
    """TimeSpan.FromSeconds refuses NaN, and a timeout shorter than the interval is an ArgumentException: the
    extension reads both after StartNewAsync, so the 400 is about an instance that was started."""
    response = api.request("POST", f"{RPC}/orchestrators/HelloOrchestrator/n?{query}")

    assert response.status_code == 400
    assert api.instance("n") is not None


def test_the_version_parameter_of_a_start_is_ignored(api):
    """The extension's DurableClient starts every instance with its DefaultVersion, the empty string."""
    api.request("POST", f"{RPC}/orchestrators/HelloOrchestrator/v?version=2.0")

    history = api.call(lambda: api.store.get_history("v")) + api.inbox("v")
    (started,) = [e for e in history if e["EventType"] == 0]
    assert started["Version"] == ""


# -- status -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["Pending", "Running", "Suspended", "ContinuedAsNew"])
def test_status_of_an_unfinished_instance_is_202_with_location(api, base, status):
    api.start("i", '"x"')
    if status != "Pending":
        api.set_status("i", RuntimeStatus(status))

    response = api.request("GET", f"{base}/instances/i?taskHub=TestHubName&connection=Storage")

    assert response.status_code == 202
    assert response.headers["Location"] == f"{api.base}{base}/instances/i?taskHub=TestHubName&connection=Storage"
    assert response.headers["Retry-After"] == "5"
    assert response.json()["runtimeStatus"] == status


def test_the_task_hub_parameter_is_case_insensitive_and_other_hubs_have_nothing(api, base):
    api.start("i", '"x"')

    assert api.request("GET", f"{base}/instances/i?taskHub=testhubname").status_code == 202
    assert api.request("GET", f"{base}/instances/i?taskHub=OtherHub").status_code == 404
    assert api.request("GET", f"{base}/instances/i?taskHub=OtherHub").content == b""
    assert api.request("POST", f"{base}/instances/i/terminate?reason=x&taskHub=OtherHub").status_code == 404
    refused = api.request("POST", f"{base}/orchestrators/HelloOrchestrator?taskHub=OtherHub")
    assert refused.status_code == 400
    assert "'OtherHub' is not served by this host" in refused.json()["ExceptionMessage"]
    assert api.request("GET", f"{base}/instances/i").json()["runtimeStatus"] == "Pending"  # nothing changed


@pytest.mark.parametrize("status", ["Completed", "Terminated", "Failed"])
def test_status_of_a_finished_instance_is_200(api, base, status):
    api.start("i", '"x"')
    api.set_status("i", RuntimeStatus(status), '"out"')

    response = api.request("GET", f"{base}/instances/i")

    assert response.status_code == 200 and "Location" not in response.headers
    body = response.json()
    assert list(body) == ["name", "instanceId", "runtimeStatus", "input", "customStatus", "output", "createdTime",
                          "lastUpdatedTime"]
    assert (body["runtimeStatus"], body["input"], body["output"]) == (status, "x", "out")
    assert body["createdTime"] == "2024-05-01T12:00:00Z"


@pytest.mark.parametrize("flag", ["true", "True", "TRUE"])
def test_a_failed_instance_is_500_when_asked(api, flag):
    api.start("i")
    api.set_status("i", RuntimeStatus.Failed, '"Orchestrator function \'HelloOrchestrator\' failed: x"')

    response = api.request("GET", f"{WEBHOOK}/instances/i?returnInternalServerErrorOnFailure={flag}")

    assert response.status_code == 500 and response.json()["runtimeStatus"] == "Failed"


def test_status_of_an_unknown_instance_is_404_with_an_empty_body(api, base):
    assert_empty(api.request("GET", f"{base}/instances/missing"), 404)


@pytest.mark.parametrize("flag", ["true", "True", "TRUE"])
def test_status_flags_are_case_insensitive(api, base, flag):
    api.start("i", '"x"')
    started = api.inbox("i")[0]
    api.set_status("i", RuntimeStatus.Completed, '"out"', history=[
        ev.orchestrator_started(T0), started, ev.execution_completed(T0, "Completed", '"out"')])

    body = api.request("GET", f"{base}/instances/i?showHistory={flag}&ShowHistoryOutput={flag}").json()

    assert [e["EventType"] for e in body["historyEvents"]] == ["ExecutionStarted", "ExecutionCompleted"]
    assert body["historyEvents"][1]["Result"] == "out"


def test_history_output_and_input_are_left_out_unless_asked(api):
    api.start("i", '"x"')
    started = api.inbox("i")[0]
    api.set_status("i", RuntimeStatus.Completed, '"out"', history=[
        ev.orchestrator_started(T0), started, ev.execution_completed(T0, "Completed", '"out"')])

    body = api.request("GET", f"{WEBHOOK}/instances/i?showHistory=true&showInput=false").json()

    assert body["input"] is None
    assert all("Result" not in e and "Input" not in e for e in body["historyEvents"])
    assert "historyEvents" not in api.request("GET", f"{WEBHOOK}/instances/i?showHistory=false").json()


# -- query ------------------------------------------------------------------------------------------
@pytest.fixture
def three(api):
    for name in ("q1", "q2", "q3"):
        api.start(name, '"in"')
    api.set_status("q1", RuntimeStatus.Completed, '"done"')
    return api


@pytest.mark.parametrize("path", ["/instances", "/instances/"])
def test_query_lists_instances(three, base, path):
    response = three.request("GET", base + path)

    assert response.status_code == 200
    assert [s["instanceId"] for s in response.json()] == ["q1", "q2", "q3"]
    assert response.json()[0]["input"] == "in"  # showInput defaults to true, as in the extension
    assert three.request("GET", base + path + "?showInput=false").json()[0]["input"] is None
    assert response.headers["x-ms-continuation-token"] == ""  # on the last page too, empty


def test_query_filters(three, base):
    by_status = three.request("GET", f"{base}/instances/?runtimeStatus=Pending,running").json()
    by_prefix = three.request("GET", f"{base}/instances/?instanceIdPrefix=q3&showInput=True").json()
    by_time = three.request("GET", f"{base}/instances/?createdTimeFrom=2024-05-01T12:00:01.000000Z").json()

    assert [s["instanceId"] for s in by_status] == ["q2", "q3"]
    assert [(s["instanceId"], s["input"]) for s in by_prefix] == [("q3", "in")]
    assert by_time == []


def test_query_pages_with_the_continuation_token_header(three, base):
    first = three.request("GET", f"{base}/instances/?top=2")
    token = first.headers["x-ms-continuation-token"]
    second = three.request("GET", f"{base}/instances/?top=2", headers={"x-ms-continuation-token": token})

    assert [s["instanceId"] for s in first.json()] == ["q1", "q2"]
    assert [s["instanceId"] for s in second.json()] == ["q3"]
    assert second.headers["x-ms-continuation-token"] == ""  # on the last page too, empty


@pytest.mark.parametrize("query", ["runtimeStatus=Sleeping", "runtimeStatus=completed", "top=many",
                                   "top=99999999999", "createdTimeFrom=yesterday", "createdTimeTo=soon",
                                   "showInput=yes"])
def test_query_values_the_extension_cannot_parse_are_ignored(three, query):
    """HttpApiHandler reads each with TryParse (Enum, int, DateTime, bool) and leaves a value that fails out of the
    condition: the answer is the unfiltered listing (these were 400s before; the extension answers 200)."""
    response = three.request("GET", f"{RPC}/instances/?{query}")

    assert response.status_code == 200, response.text
    assert [s["instanceId"] for s in response.json()] == ["q1", "q2", "q3"]
    assert response.json()[0]["input"] == "in"


@pytest.mark.parametrize("query", ["top=some", "lastOperationTimeFrom=soon", "lastOperationTimeTo=x"])
def test_entity_listing_values_the_extension_cannot_parse_are_ignored(three, query):
    assert three.request("GET", f"{RPC}/entities/Counter?{query}").status_code == 200


@pytest.mark.parametrize(("query", "listed"), [
    ("runtimeStatus=Completed&runtimeStatus=Pending", ["q1", "q2"]),  # every value of the parameter
    ("runtimeStatus=Completed&RUNTIMESTATUS=Running", ["q1", "q3"]),  # its name without case, as NameValueCollection
    ("runtimeStatus=Completed,completed,Nope", ["q1"]),  # a part Enum.TryParse refuses is left out, case counts
    ("runtimeStatus=1", ["q1"]),  # Enum.TryParse reads the number of a status (Completed = 1)
    ("runtimeStatus= Running , 6", ["q2", "q3"]),  # blanks around a part; 6 is Pending
])
def test_the_runtime_status_filter_is_read_as_enum_try_parse_reads_it(three, query, listed):
    three.set_status("q3", RuntimeStatus.Running)

    response = three.request("GET", f"{RPC}/instances/?{query}")

    assert [s["instanceId"] for s in response.json()] == listed


@pytest.mark.parametrize("path", ["instances/", "entities"])
@pytest.mark.parametrize("token", ["nonsense", "%%%"])
def test_query_and_entity_listing_with_a_bad_continuation_token_are_400(three, path, token):
    response = three.request("GET", f"{RPC}/{path}", headers={"x-ms-continuation-token": token})

    assert_argument_error(response, "The continuation token is not one this host gave out.")


# -- purge ------------------------------------------------------------------------------------------
def test_purge_one_answers_the_count(api, base):
    api.start("p")
    api.set_status("p", RuntimeStatus.Completed)

    response = api.request("DELETE", f"{base}/instances/p")

    assert response.status_code == 200 and response.json() == {"instancesDeleted": 1}
    assert_empty(api.request("GET", f"{base}/instances/p"), 404)


def test_purge_of_an_unknown_instance_is_404(api, base):
    assert_empty(api.request("DELETE", f"{base}/instances/missing"), 404)


def test_purge_of_a_running_instance_deletes_it_as_the_extension_3_does(api, base):
    api.start("p")

    response = api.request("DELETE", f"{base}/instances/p")

    assert response.status_code == 200 and response.json() == {"instancesDeleted": 1}
    assert api.instance("p") is None


def test_purge_by_filter(api, base):
    for name, status in [("a", RuntimeStatus.Completed), ("b", RuntimeStatus.Failed), ("c", RuntimeStatus.Running)]:
        api.start(name)
        api.set_status(name, status)

    response = api.request("DELETE", f"{base}/instances/?createdTimeFrom=2024-05-01T00:00:00Z"
                                     f"&runtimeStatus=Completed,Failed,Running")

    assert response.status_code == 200 and response.json() == {"instancesDeleted": 2}
    assert api.instance("c") is not None
    # without a finished runtimeStatus DurableTask.AzureStorage filters on no status: the running one goes too
    again = api.request("DELETE", f"{base}/instances?createdTimeFrom=2024-05-01T00:00:00Z")
    assert again.status_code == 200 and again.json() == {"instancesDeleted": 1}
    assert_empty(api.request("DELETE", f"{base}/instances?createdTimeFrom=2024-05-01T00:00:00Z"), 404)


def test_purge_by_filter_without_created_time_from_is_400_with_a_json_string(api, base):
    response = api.request("DELETE", f"{base}/instances/")

    assert response.status_code == 400
    assert response.json() == "Please provide value for 'createdTimeFrom' parameter."


# -- terminate, suspend, resume, rewind ---------------------------------------------------------------
def test_terminate_is_202_with_an_empty_body_and_sends_the_reason(api, base):
    api.start("t")

    assert_empty(api.request("POST", f"{base}/instances/t/terminate?reason=enough"), 202)
    assert api.inbox("t")[-1]["Input"] == "enough"


@pytest.mark.parametrize("operation", ["terminate", "suspend", "resume", "rewind", "raiseEvent/Go"])
def test_operations_on_an_unknown_instance_are_404(api, base, operation):
    assert_empty(api.request("POST", f"{base}/instances/missing/{operation}", json={"x": 1}), 404)


@pytest.mark.parametrize("operation", ["terminate", "suspend", "resume"])
def test_operations_on_a_finished_instance_are_410(api, base, operation):
    api.start("f")
    api.set_status("f", RuntimeStatus.Completed)

    assert_empty(api.request("POST", f"{base}/instances/f/{operation}"), 410)


def test_suspend_and_resume(api, base):
    api.start("s")
    api.set_status("s", RuntimeStatus.Running)

    assert_empty(api.request("POST", f"{base}/instances/s/suspend?reason=pause"), 202)
    assert api.request("GET", f"{base}/instances/s").json()["runtimeStatus"] == "Suspended"
    assert_empty(api.request("POST", f"{base}/instances/s/resume?reason=go"), 202)
    assert api.request("GET", f"{base}/instances/s").json()["runtimeStatus"] == "Running"


def test_double_suspend_and_resume_when_running_are_500(api, base):
    api.start("s")
    api.set_status("s", RuntimeStatus.Running)

    resumed = api.request("POST", f"{base}/instances/s/resume")
    api.request("POST", f"{base}/instances/s/suspend")
    suspended_again = api.request("POST", f"{base}/instances/s/suspend")

    for response in (resumed, suspended_again):
        assert response.status_code == 500
        assert response.json()["Message"] == "Something went wrong while processing your request"


def test_rewind_of_a_failed_instance_is_202(api, base):
    api.start("r")
    api.set_status("r", RuntimeStatus.Failed, '"boom"')

    assert_empty(api.request("POST", f"{base}/instances/r/rewind?reason=again"), 202)
    assert api.instance("r").status == RuntimeStatus.Running


def test_rewind_of_an_instance_that_did_not_fail_is_the_extension_3s_500(api, base):
    api.start("r")

    response = api.request("POST", f"{base}/instances/r/rewind")

    assert response.status_code == 500
    body = response.json()
    assert list(body) == ERROR_KEYS and body["ExceptionType"] == "System.InvalidOperationException"
    assert body["ExceptionMessage"] == "The rewind operation is only supported on failed orchestration instances."


def test_an_unknown_instance_operation_is_404(api, base):
    api.start("o")

    assert_empty(api.request("POST", f"{base}/instances/o/explode"), 404)


# -- restart ----------------------------------------------------------------------------------------
def test_restart_with_a_new_id_is_202_with_the_check_status_payload(api, base):
    api.start("r", '"payload"')
    api.set_status("r", RuntimeStatus.Completed)

    response = api.request("POST", f"{base}/instances/r/restart")

    assert response.status_code == 202
    new_id = response.json()["id"]
    assert new_id != "r" and response.headers["Location"] == response.json()["statusQueryGetUri"]
    assert api.instance(new_id).input == '"payload"'


@pytest.mark.parametrize("flag", ["false", "False"])
def test_restart_with_the_same_id(api, base, flag):
    api.start("r")
    api.set_status("r", RuntimeStatus.Failed)

    response = api.request("POST", f"{base}/instances/r/restart?restartWithNewInstanceId={flag}")

    assert response.status_code == 202 and response.json()["id"] == "r"
    assert api.instance("r").status == RuntimeStatus.Pending


def test_restart_of_a_running_instance_under_its_id_is_the_extension_3s_500(api, base):
    api.start("r")

    response = api.request("POST", f"{base}/instances/r/restart?restartWithNewInstanceId=false")

    assert response.status_code == 500
    assert response.json()["ExceptionType"] == "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException"


def test_restart_of_an_unknown_instance_is_400(api, base):
    response = api.request("POST", f"{base}/instances/missing/restart")

    assert response.status_code == 400
    body = response.json()
    assert list(body) == ERROR_KEYS and body["ExceptionType"] == "System.ArgumentException"
    assert body["Message"] == "InstanceId does not match a valid orchestration instance."
    assert body["ExceptionMessage"] == "An orchestrastion with the instanceId missing was not found."  # sic


# -- raise event ------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["Pending", "Running", "Suspended"])
def test_raise_event_is_202_and_delivers_the_json(api, base, status):
    api.start("e")
    if status != "Pending":
        api.set_status("e", RuntimeStatus(status))

    response = api.request("POST", f"{base}/instances/e/raiseEvent/Approval", json={"ok": True})

    assert_empty(response, 202)
    raised = api.inbox("e")[-1]
    assert (raised["Name"], json.loads(raised["Input"])) == ("Approval", {"ok": True})


def test_raise_event_on_a_finished_instance_is_410(api, base):
    api.start("e")
    api.set_status("e", RuntimeStatus.Terminated)

    assert_empty(api.request("POST", f"{base}/instances/e/raiseEvent/Go", json=1), 410)


def test_raise_event_needs_json_content(api, base):
    api.start("e")

    wrong_type = api.request("POST", f"{base}/instances/e/raiseEvent/Go", data="true",
                             headers={"Content-Type": "text/plain"})
    bad_json = api.request("POST", f"{base}/instances/e/raiseEvent/Go", data="{nope",
                           headers={"Content-Type": "application/json; charset=utf-8"})

    assert wrong_type.status_code == 400 and "Only application/json request content is supported" in wrong_type.text
    assert bad_json.status_code == 400 and "Invalid JSON content" in bad_json.text
    assert len(api.inbox("e")) == 1  # only the start: nothing was delivered


@pytest.mark.parametrize("body", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b'{"x": [NaN]}'])
def test_json_bodies_with_numbers_json_cannot_hold_are_400_everywhere(api, base, body):
    api.start("e")
    json_type = {"Content-Type": "application/json"}

    assert_json_reader_error(api.request("POST", f"{base}/orchestrators/HelloOrchestrator/nan", data=body,
                                         headers=json_type))
    assert_json_reader_error(api.request("POST", f"{base}/instances/e/raiseEvent/Go", data=body, headers=json_type))
    signal = api.request("POST", f"{base}/entities/Counter/k?op=add", data=body, headers=json_type)
    assert signal.status_code == 400 and signal.json()["Message"].startswith("Could not parse JSON content: ")

    assert api.instance("nan") is None and len(api.inbox("e")) == 1 and api.inbox("@counter@k") == []


# -- entities ---------------------------------------------------------------------------------------
def test_entity_state_is_404_until_there_is_some(api, base):
    assert_empty(api.request("GET", f"{base}/entities/Counter/k"), 404)

    api.call(lambda: api.store.commit_entity("@counter@k", "counter", True, '{"n": 2}', [], [], T0.timestamp()))

    response = api.request("GET", f"{base}/entities/Counter/k")
    assert response.status_code == 200 and response.json() == {"n": 2}


def test_signal_entity_is_202_and_queues_the_operation(api, base):
    assert_empty(api.request("POST", f"{base}/entities/Counter/k?op=add", json=5), 202)
    assert_empty(api.request("DELETE", f"{base}/entities/Counter/k"), 202)

    inbox = api.inbox("@counter@k")
    assert [e["Name"] for e in inbox] == ["op", "op"]  # the extension's name for every entity request
    assert [json.loads(e["Input"])["op"] for e in inbox] == ["add", "delete"]


@pytest.fixture
def entities(api):
    """Three counters and a cart with state, one counter without (deleted): as entity batches leave them."""
    for offset, (entity_id, state) in enumerate([("@counter@b", "2"), ("@counter@a", "1"), ("@cart@x", '["pen"]'),
                                                 ("@counter@gone", None), ("@counter@c", '{"n": 3}')]):
        name = entity_id.split("@")[1]
        at = T0.timestamp() + offset + 0.25
        api.call(lambda: api.store.commit_entity(entity_id, name, state is not None, state, [], [], at))
    api.start("counter-orchestration")  # orchestrations are not entities
    return api


@pytest.mark.parametrize("path", ["/entities", "/entities/"])
def test_entity_listing_lists_every_entity_with_state(entities, base, path):
    response = entities.request("GET", base + path)

    assert response.status_code == 200
    assert response.json() == [
        {"entityId": {"name": "cart", "key": "x"}, "lastOperationTime": "2024-05-01T12:00:02.25Z", "state": None},
        {"entityId": {"name": "counter", "key": "a"}, "lastOperationTime": "2024-05-01T12:00:01.25Z",
         "state": None},
        {"entityId": {"name": "counter", "key": "b"}, "lastOperationTime": "2024-05-01T12:00:00.25Z",
         "state": None},
        {"entityId": {"name": "counter", "key": "c"}, "lastOperationTime": "2024-05-01T12:00:04.25Z",
         "state": None}]
    assert response.headers["x-ms-continuation-token"] == ""  # on the last page too, empty


def test_the_instance_query_lists_entities_as_the_azure_storage_provider_does(entities, base):
    # DurableClient.ListInstancesAsync reads DurableTask.AzureStorage's Instances table, entities included (their
    # instances named by their ids, Running); devhost's own dashboard listing still leaves them out
    response = entities.request("GET", f"{base}/instances/")
    listed = {s["instanceId"]: s for s in response.json()}

    assert response.status_code == 200
    assert sorted(listed) == ["@cart@x", "@counter@a", "@counter@b", "@counter@c", "@counter@gone",
                              "counter-orchestration"]
    assert {k: listed["@counter@c"][k] for k in ("name", "runtimeStatus", "input", "customStatus", "output")} == {
        "name": "@counter@c", "runtimeStatus": "Running", "input": {"exists": True, "state": '{"n": 3}', "sorter": {}},
        "customStatus": {"entityExists": True}, "output": None}
    running = entities.request("GET", f"{base}/instances/?runtimeStatus=Running&instanceIdPrefix=@counter@").json()
    assert [s["instanceId"] for s in running] == ["@counter@b", "@counter@a", "@counter@gone", "@counter@c"]
    assert [s["instanceId"] for s in entities.request("GET", "/devhost/api/instances").json()["instances"]] == [
        "counter-orchestration"]


def test_entity_listing_by_name_with_state(entities, base):
    response = entities.request("GET", f"{base}/entities/Counter?fetchState=TRUE")

    assert [(e["entityId"]["key"], e["state"]) for e in response.json()] == [("a", 1), ("b", 2), ("c", {"n": 3})]
    assert entities.request("GET", f"{base}/entities/cart/?fetchState=true").json()[0]["state"] == ["pen"]
    assert entities.request("GET", f"{base}/entities/nobody").json() == []


def test_entity_listing_by_last_operation_time(entities, base):
    response = entities.request("GET", f"{base}/entities?lastOperationTimeFrom=2024-05-01T12:00:01Z"
                                       "&lastOperationTimeTo=2024-05-01T12:00:03Z")

    assert [e["entityId"]["key"] for e in response.json()] == ["x", "a"]


def test_entity_listing_pages_with_the_continuation_token_header(entities, base):
    keys, token, pages = [], None, 0
    while True:
        response = entities.request("GET", f"{base}/entities?top=3",
                                    headers={"x-ms-continuation-token": token} if token else {})
        keys += [e["entityId"]["key"] for e in response.json()]
        pages += 1
        token = response.headers.get("x-ms-continuation-token")
        if not token:
            break

    assert (keys, pages) == (["x", "a", "b", "c"], 2)


# -- other routes -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"{WEBHOOK}/nothing"), ("GET", f"{RPC}/nothing/here"), ("GET", "/runtime/webhooks/other"),
    ("GET", "/api/nothing"), ("GET", "/elsewhere"), ("PUT", f"{RPC}/instances/x"),
    ("GET", f"{WEBHOOK}/instances/x/terminate"), ("PATCH", f"{RPC}/entities/a/b"),
])
def test_unknown_routes_and_methods_are_404_with_an_empty_body(api, method, path):
    assert_empty(api.request(method, path), 404)


def test_home_and_host_status(api):
    assert api.request("GET", "/").status_code == 200
    assert api.request("GET", "/admin/host/status").json() == {"state": "Running"}


# -- security headers (docs/security.md §4) ----------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/devhost/", 200), ("GET", "/devhost/instances/x", 200), ("GET", "/devhost/app.js", 200),
    ("GET", "/devhost/app.css", 200), ("GET", "/devhost/openapi.json", 200), ("GET", "/devhost", 302),
    ("GET", "/devhost/nothing.js", 404), ("GET", f"{WEBHOOK}/instances", 200), ("GET", f"{RPC}/instances/x", 404),
    ("POST", f"{WEBHOOK}/orchestrators/HelloOrchestrator", 202), ("POST", f"{RPC}/orchestrators/Nothing", 400),
    ("GET", "/admin/host/status", 200), ("GET", "/admin/functions/x", 404), ("GET", "/", 200),
    ("GET", "/elsewhere", 404),
])
def test_devhost_s_own_answers_forbid_framing_sniffing_and_referrers(api, method, path, status):
    response = api.request(method, path)

    assert response.status_code == status
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/echo/ada", 200), ("GET", "/api/teapot", 418), ("GET", "/api/boom", 500), ("GET", "/api/client", 200),
    ("GET", "/api/nothing", 404), ("DELETE", "/api/echo/ada", 404),
])
def test_the_app_s_http_functions_answer_as_the_user_made_them_without_security_headers(api, method, path, status):
    response = api.request(method, path)

    assert response.status_code == status
    assert [name for name in SECURITY_HEADERS if name in response.headers] == []


# -- the app's HTTP functions -----------------------------------------------------------------------
def test_an_http_function_gets_route_params_query_headers_and_body(api):
    response = api.request("POST", "/api/Echo/ada/42?x=1", data="hi", headers={"X-Test": "yes"})

    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"method": "POST", "route": {"name": "ada", "id": "42"}, "query": {"x": "1"},
                               "body": "hi", "header": "yes"}


def test_an_optional_route_parameter_may_be_absent(api):
    assert api.request("GET", "/api/echo/ada").json()["route"] == {"name": "ada"}


def test_a_method_the_function_does_not_take_is_404(api):
    assert_empty(api.request("DELETE", "/api/echo/ada"), 404)


def test_a_named_http_output_becomes_the_response(api):
    response = api.request("GET", "/api/teapot")

    assert response.status_code == 418 and response.text == "short and stout"
    assert response.headers["X-Brew"] == "earl grey"
    assert response.cookies["sugar"] == "2"


def test_a_function_that_raises_is_500_and_the_host_keeps_serving(api):
    assert api.request("GET", "/api/boom").status_code == 500
    assert api.request("GET", "/api/echo/still").status_code == 200


def test_a_durable_client_binding_gets_the_payload(api):
    assert api.request("GET", "/api/client").text == CLIENT_PAYLOAD


def test_purge_by_filter_of_running_instances_only_deletes_them_as_the_storage_provider_does(api, base):
    # PurgeInstanceHistoryAsync keeps only the filter's finished statuses; with none left it filters on none
    api.start("r")
    api.set_status("r", RuntimeStatus.Running)

    response = api.request("DELETE", f"{base}/instances/?createdTimeFrom=2024-05-01T00:00:00Z&runtimeStatus=Running")

    assert response.status_code == 200 and response.json() == {"instancesDeleted": 1}
    assert api.instance("r") is None


# -- the dashboard's status sets ---------------------------------------------------------------------------------
def test_the_dashboard_reads_the_api_path_and_status_sets_from_their_one_definition(api):
    response = api.request("GET", "/devhost/constants.js")
    text = response.text

    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/javascript")
    sets = {name: json.loads(value) for name, value in re.findall(r"export const (\w+) = (?:new Set\()?(\[.*?\])", text)}
    assert re.search(r'export const API = "(.*)";', text).group(1) == WEBHOOK
    assert set(sets["FINISHED"]) == {s.value for s in TERMINAL_STATUSES}
    assert set(sets["RUNNING"]) == {s.value for s in PROGRESSING_STATUSES}
    assert sorted(sets["STATUSES"]) == sorted(s.value for s in RuntimeStatus)


def test_no_dashboard_script_spells_out_a_runtime_status_list_or_the_api_path():
    scripts = {p.name: p.read_text(encoding="utf-8") for p in DASHBOARD_FILES.glob("*.js")}
    copies = {name for name, text in scripts.items() if re.search(r'\[\s*"(Running|Completed|Pending)"\s*,', text)}

    paths = {name for name, text in scripts.items() if WEBHOOK in text}

    assert copies == set() and paths == set() and 'from "./constants.js"' in scripts["common.js"]


# -- bodies that come slowly, stall or go away (issue 19) ----------------------------------------------------------
SMALL_BUDGET = 100
QUICK_RATE = MinDataRate(bytes_per_second=240, grace=0.5)


@pytest.fixture
def bounded(tmp_path):
    """The API with a 100-byte body budget and a half-second grace before a body must come at 240 bytes a second."""
    budget = ByteBudget(SMALL_BUDGET)
    server = ApiServer(tmp_path / "store.sqlite", budget=budget, rate=QUICK_RATE)
    server.budget = budget
    yield server
    server.close()


def raw_request(server: ApiServer, path: str, headers: str, body: bytes = b"") -> socket.socket:
    """A client that sends its headers and the start of its body, and then sends nothing more."""
    conn = socket.create_connection((server.server.host, server.server.port), timeout=10)
    conn.sendall(f"POST {path} HTTP/1.1\r\nHost: {server.server.host}\r\n{headers}\r\n".encode() + body)
    return conn


def answer(conn: socket.socket) -> bytes:
    received = b""
    while chunk := conn.recv(4096):
        received += chunk
    return received


@pytest.mark.parametrize("headers, body", [
    ("Content-Type: application/json\r\nContent-Length: 90\r\n", b'{"a": '),
    ("Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", b"6\r\n{\"a\": \r\n"),
], ids=["content-length", "chunked"])
def test_a_stalled_body_does_not_hold_up_other_bodies_and_is_answered_408(bounded, headers, body):
    with raw_request(bounded, f"{RPC}/orchestrators/HelloOrchestrator/stalled", headers, body) as stalled:
        poll(lambda: bounded.budget.used > 0, what="the stalled body to hold its first bytes")
        other = bounded.request("POST", f"{RPC}/orchestrators/HelloOrchestrator/other", json={"n": "x" * 60})
        assert other.status_code == 202  # 6 bytes held by the stalled one leave room for it

        response = answer(stalled)  # the grace period passes without more bytes: 408, connection closed
    assert response.startswith(b"HTTP/1.1 408"), response
    assert bounded.budget.used == 0
    assert bounded.instance("stalled") is None and bounded.instance("other") is not None


def test_a_create_and_wait_start_does_not_hold_the_budget_while_it_waits(bounded):
    answers: list[requests.Response] = []
    waiting = threading.Thread(target=lambda: answers.append(bounded.request(
        "POST", f"{RPC}/orchestrators/HelloOrchestrator/waits?timeout=20&pollingInterval=0.1",
        json={"n": "x" * 60})), daemon=True)
    waiting.start()
    poll(lambda: bounded.instance("waits") is not None, what="the create-and-wait start to begin waiting")

    assert bounded.budget.used == 0
    other = bounded.request("POST", f"{RPC}/orchestrators/HelloOrchestrator/other", json={"n": "y" * 60})
    assert other.status_code == 202
    bounded.set_status("waits", RuntimeStatus.Completed, '"done"')
    waiting.join(timeout=30)
    assert [(a.status_code, a.json()) for a in answers] == [(200, "done")]


def test_a_client_that_goes_away_mid_body_is_one_quiet_line(bounded, caplog):
    caplog.set_level(logging.INFO, logger="devhost")
    conn = raw_request(bounded, f"{RPC}/orchestrators/HelloOrchestrator/gone",
                       "Content-Type: application/json\r\nContent-Length: 90\r\n", b'{"a": ')
    poll(lambda: bounded.budget.used > 0, what="the body to begin")
    conn.close()

    poll(lambda: bounded.budget.used == 0, what="the budget to be released")
    line = poll(lambda: next((r for r in caplog.records if "went away" in r.getMessage()), None),
                what="the line about the client")
    assert line.levelno == logging.INFO and line.exc_info is None
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert bounded.instance("gone") is None


# -- devhost's read API for the dashboard --------------------------------------------------------------------------
@pytest.fixture
def listed(api):
    """Four instances created a second apart (l0 oldest), l1 Completed, l2 Failed; l0 and l3 Pending."""
    for n in range(4):
        api.start(f"l{n}", f'"in{n}"')
        api.call(lambda: api.ops.clock.advance(1))
    api.set_status("l1", RuntimeStatus.Completed, '"done"')
    api.set_status("l2", RuntimeStatus.Failed, '"boom"')
    api.call(lambda: api.store.commit_entity("@counter@k", "counter", True, "1", [], [], T0.timestamp()))
    return api


def listing(api, **params) -> dict:
    response = api.request("GET", "/devhost/api/instances", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_dashboard_listing_is_newest_first_with_a_total_and_counts_per_status(listed):
    body = listing(listed)

    assert [s["instanceId"] for s in body["instances"]] == ["l3", "l2", "l1", "l0"]
    assert body["total"] == 4 and body["counts"] == {"Pending": 2, "Completed": 1, "Failed": 1}
    assert (body["page"], body["top"], body["sort"], body["order"]) == (1, 25, "createdTime", "desc")
    first = body["instances"][0]  # the management API's status payload, input left out unless asked
    assert set(first) == {"name", "instanceId", "runtimeStatus", "input", "customStatus", "output", "createdTime",
                          "lastUpdatedTime"} and first["input"] is None
    assert listing(listed, showInput="true")["instances"][0]["input"] == "in3"


def test_the_dashboard_listing_sorts_pages_and_filters(listed):
    assert [s["instanceId"] for s in listing(listed, order="asc")["instances"]] == ["l0", "l1", "l2", "l3"]
    by_status = listing(listed, sort="runtimeStatus", order="ASC")["instances"]
    assert [s["runtimeStatus"] for s in by_status] == ["Completed", "Failed", "Pending", "Pending"]
    second = listing(listed, top=3, page=2)
    assert [s["instanceId"] for s in second["instances"]] == ["l0"] and second["total"] == 4
    failed_or_done = listing(listed, runtimeStatus="failed,Completed")
    assert [s["instanceId"] for s in failed_or_done["instances"]] == ["l2", "l1"]
    # the total follows the status filter; the counts leave it aside, so each status says what choosing it shows
    assert failed_or_done["total"] == 2 and failed_or_done["counts"]["Pending"] == 2
    assert listing(listed, instanceIdPrefix="l1")["total"] == 1
    assert listing(listed, name="ORCHESTRATOR")["total"] == 4 and listing(listed, name="other")["total"] == 0


def test_the_management_api_still_lists_oldest_first_with_continuation_tokens(listed):
    response = listed.request("GET", f"{WEBHOOK}/instances?top=3")

    # the entity is listed too (the Azure Storage provider's query), not on the dashboard
    assert [s["instanceId"] for s in response.json()] == ["@counter@k", "l0", "l1"]
    assert response.headers["x-ms-continuation-token"]


@pytest.mark.parametrize("query, message", [
    ("sort=color", "'color' is not a valid value for sort"), ("order=up", "'up' is not a valid value for order"),
    ("top=0", "'0' is not a valid value for top"), ("top=1001", "a whole number from 1 to 1000"),
    ("page=0", "'0' is not a valid value for page"), ("page=x", "'x' is not a valid value for page"),
    ("runtimeStatus=Done", "'Done' is not a valid runtimeStatus"),
    ("createdTimeFrom=soon", "is not a valid date and time")])
def test_the_dashboard_listing_refuses_bad_parameters_with_400(listed, query, message):
    response = listed.request("GET", f"/devhost/api/instances?{query}")

    assert response.status_code == 400 and message in response.json()["ExceptionMessage"], response.text


def test_the_dashboard_reads_one_entity_with_its_last_operation_time(api):
    assert api.request("GET", "/devhost/api/entities/Counter/k").json() == {
        "entityId": {"name": "counter", "key": "k"}, "exists": False, "lastOperationTime": None, "state": None}
    api.call(lambda: api.store.commit_entity("@counter@k", "counter", True, '{"n": 2}', [], [], T0.timestamp() + 1.25))
    api.call(lambda: api.store.commit_entity("@counter@", "counter", True, "0", [], [], T0.timestamp()))

    body = api.request("GET", "/devhost/api/entities/Counter/k").json()
    assert body == {"entityId": {"name": "counter", "key": "k"}, "exists": True,
                    "lastOperationTime": "2024-05-01T12:00:01.25Z", "state": {"n": 2}}
    assert api.request("GET", "/devhost/api/entities/counter/$").json()["state"] == 0  # "$": the empty key
    api.call(lambda: api.store.commit_entity("@counter@k", "counter", False, None, [], [], T0.timestamp() + 2))
    deleted = api.request("GET", "/devhost/api/entities/Counter/k").json()  # no state, and when it was deleted
    assert (deleted["exists"], deleted["state"], deleted["lastOperationTime"]) == \
        (False, None, "2024-05-01T12:00:02Z")


def test_an_answer_to_a_client_gone_at_that_moment_is_one_quiet_line_not_a_failure(caplog):
    """A 408 (or 413) written as the client goes away: the write fails, and that is the client's leaving, not
    devhost failing (seen once in the slow-body soak on a loaded machine: aiohttp logged a traceback)."""
    from unittest import mock

    from aiohttp.test_utils import make_mocked_request

    from devhost.web.server import _closing

    class GoneWriter(mock.MagicMock):
        async def write_headers(self, *args: Any) -> None:
            raise ConnectionResetError("Cannot write to closing transport")

    caplog.set_level(logging.INFO, logger="devhost")
    request = make_mocked_request("POST", "/runtime/webhooks/durabletask/orchestrators/O", writer=GoneWriter())

    response = asyncio.run(_closing(request, 408))

    assert response.status == 408
    assert any("went away before its 408 answer" in r.getMessage() for r in caplog.records)
    assert all(r.exc_info is None for r in caplog.records)

"""The management API and the app's HTTP functions served by the real aiohttp app (aiohttp's TestServer, in a
background event loop) over a real store, for devhost's web tests: a few HTTP functions, a fixed clock, and helpers
that check the extension's error bodies."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import azure.functions as func
import requests
from aiohttp.test_utils import TestServer
from loop_thread import LoopThread

import devhost
from devhost.app.bindings import Invocation
from devhost.app.loader import LoadedFunction
from devhost.app.route_templates import compile_route
from devhost.clock import Clock
from devhost.model import Binding, EpisodeOutcome, FunctionSpec, RuntimeStatus
from devhost.runtime.operations import Operations
from devhost.runtime.store.sqlite import SqliteStore
from devhost.web.server import RPC, WEBHOOK, DurableApi, FunctionRoutes, make_app

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



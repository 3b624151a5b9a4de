"""call_http (durable HTTP) end to end (tests/apps/durable_http) against a loopback server started by the test:
the orchestrator gets the extension's DurableHttpResponse ({"statusCode", "headers", "content"})."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from devhost.testing import Client, app_host

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "tests" / "apps" / "durable_http"


class _Handler(BaseHTTPRequestHandler):
    """GET /hello: a text answer with a custom and a repeated header; POST /echo: what it received, as JSON;
    anything else: 500."""

    def do_GET(self) -> None:
        if self.path != "/hello":
            self._send(500, b"broken", "text/plain")
            return
        self._send(200, b"hello", "text/plain", (("X-Test", "1"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")))

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        echo = {"method": "POST", "body": body.decode(), "contentType": self.headers.get("Content-Type"),
                "token": self.headers.get("X-Token")}
        self._send(201, json.dumps(echo).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


host = app_host(APP, time_travel=False)


def call(host: Client, request: dict[str, Any]) -> dict[str, Any]:
    final = host.wait(host.start_instance("CallHttp", request))
    assert final["runtimeStatus"] == "Completed", final
    return final["output"]


def test_get_returns_status_headers_and_content(host, server):
    response = call(host, {"uri": f"{server}/hello"})
    assert set(response) == {"statusCode", "headers", "content"}
    assert response["statusCode"] == 200
    assert response["content"] == "hello"
    headers = response["headers"]
    assert headers["X-Test"] == "1"
    assert headers["Set-Cookie"] == ["a=1", "b=2"]  # a repeated header is a list
    assert "Date" in headers and "Server" in headers
    # .NET keeps Content-Type and Content-Length on the content, not in the response headers it returns
    assert not {"content-type", "content-length"} & {name.lower() for name in headers}


def test_post_sends_content_and_headers(host, server):
    response = call(host, {"method": "POST", "uri": f"{server}/echo", "content": {"a": 1},
                           "headers": {"Content-Type": "application/json", "X-Token": "t0k"}})
    assert response["statusCode"] == 201
    # call_http serializes content that is not a raw string to JSON
    assert json.loads(response["content"]) == {"method": "POST", "body": '{"a": 1}',
                                               "contentType": "application/json", "token": "t0k"}


def test_string_content_without_content_type_goes_as_text_plain(host, server):
    response = call(host, {"method": "POST", "uri": f"{server}/echo", "content": "plain"})
    echo = json.loads(response["content"])
    assert echo["contentType"] == "text/plain"
    assert echo["body"] == '"plain"'  # the SDK JSON-encodes a str unless is_raw_str=True


def test_error_status_is_a_response_not_a_failure(host, server):
    response = call(host, {"uri": f"{server}/missing"})
    assert response["statusCode"] == 500
    assert response["content"] == "broken"


def test_unreachable_server_fails_the_task_and_the_orchestrator_can_catch_it(host, server):
    response = call(host, {"uri": "http://127.0.0.1:1/nothing"})
    # TaskHttpActivityShim: the Reason is the HttpRequestException's message alone, the Details that exception
    reason, _, details = response["error"].partition(" \n ")
    assert "127.0.0.1" in reason and not reason.startswith("Activity function")
    assert json.loads(details)["ClassName"] == "System.Net.Http.HttpRequestException"


def test_history_shows_the_built_in_http_activity(host, server):
    instance_id = host.start_instance("CallHttp", {"uri": f"{server}/hello"})
    host.wait(instance_id)
    events = host.status(instance_id, showHistory=True, showHistoryOutput=True)["historyEvents"]
    assert [e["EventType"] for e in events] == ["ExecutionStarted", "TaskCompleted", "ExecutionCompleted"]
    assert events[1]["FunctionName"] == "BuiltIn::HttpActivity"
    assert events[1]["Result"]["statusCode"] == 200


def test_started_through_the_sdk_client(host, server):
    instance_id = host.sdk(lambda c: c.start_new("CallHttp", None, {"uri": f"{server}/hello"}))
    final = host.wait(instance_id)
    assert final["output"]["content"] == "hello"

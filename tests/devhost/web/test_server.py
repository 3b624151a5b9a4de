"""devhost.web.server: the aiohttp application and its middlewares: other routes, the security headers on devhost's
own answers, and request bodies that come slowly, stall or go away."""
from __future__ import annotations

import logging
import socket
import threading

import pytest
import requests
from api_server import (
    ApiServer,
    assert_empty,
)

from devhost.model import RuntimeStatus
from devhost.testing import poll
from devhost.web.bodies import ByteBudget, MinDataRate
from devhost.web.server import RPC, SECURITY_HEADERS, WEBHOOK


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



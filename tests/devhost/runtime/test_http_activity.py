"""devhost.runtime.http_activity: the built-in activity behind call_http against a real HTTP server on loopback."""
from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from devhost.runtime.http_activity import HttpActivity, durable_http_headers
from devhost.testing import free_port


async def echo(request: web.Request) -> web.Response:
    """Answers with what it received, a header that comes twice, and the status asked for in the query."""
    body = json.dumps({"method": request.method, "contentType": request.headers.get("Content-Type"),
                       "body": (await request.read()).decode(), "x": request.headers.getall("X-Tag", [])})
    response = web.Response(status=int(request.query.get("status", "200")), text=body,
                            content_type="application/json")
    response.headers.add("Set-Cookie", "a=1")
    response.headers.add("Set-Cookie", "b=2")
    return response


def run_against_server(scenario):
    async def main():
        runner = web.AppRunner(web.Application())
        runner.app.router.add_route("*", "/echo", echo)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        activity = HttpActivity()
        try:
            return await scenario(activity, f"http://127.0.0.1:{port}/echo")
        finally:
            await activity.close()
            await runner.cleanup()

    return asyncio.run(main())


def test_a_request_comes_back_as_a_durable_http_response():
    async def scenario(activity, url):
        request = {"method": "POST", "uri": url, "content": "hi", "headers": {"X-Tag": ["a", "b"]}}
        return json.loads(await activity.run(json.dumps(request)))

    response = run_against_server(scenario)

    assert response["statusCode"] == 200
    assert json.loads(response["content"]) == {"method": "POST", "contentType": "text/plain", "body": "hi",
                                               "x": ["a", "b"]}
    assert response["headers"]["Set-Cookie"] == ["a=1", "b=2"]  # a repeated header is a list
    assert "Content-Type" not in response["headers"] and "Content-Length" not in response["headers"]


def test_an_error_status_is_a_normal_result():
    async def scenario(activity, url):
        return json.loads(await activity.run(json.dumps({"method": "GET", "uri": url + "?status=503"})))

    assert run_against_server(scenario)["statusCode"] == 503


def test_an_unreachable_server_raises():
    async def scenario(activity, url):
        closed = f"http://127.0.0.1:{free_port()}/"
        with pytest.raises(Exception):
            await activity.run(json.dumps({"method": "GET", "uri": closed}))

    run_against_server(scenario)


def test_headers_seen_once_are_strings_and_content_headers_are_left_out():
    headers = {"Date": "today", "Content-Type": "text/plain", "Expires": "never"}

    assert durable_http_headers(headers) == {"Date": "today"}

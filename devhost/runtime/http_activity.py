"""The built-in activity behind call_http (`BuiltIn::HttpActivity`, docs/protocol.md §5.1), as the extension's
TaskHttpActivityShim runs it: the DurableHttpRequest sent, the answer returned as a DurableHttpResponse."""
from __future__ import annotations

import json
from typing import Any

import aiohttp

# .NET keeps these on HttpContent, not in HttpResponseMessage.Headers, so a DurableHttpResponse never shows them.
_CONTENT_HEADERS = frozenset({"allow", "content-disposition", "content-encoding", "content-language", "content-length",
                              "content-location", "content-md5", "content-range", "content-type", "expires",
                              "last-modified"})


class HttpActivity:
    """Sends call_http requests over one client session, opened at the first call and closed with close()."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def run(self, request_json: str | None) -> str:
        """Send the request (JSON text of a DurableHttpRequest) and return the DurableHttpResponse as JSON text.
        Content without a Content-Type goes as text/plain. A request that cannot be sent raises."""
        request = json.loads(request_json or "{}")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = [(name, value) for name, values in (request.get("headers") or {}).items()
                   for value in (values if isinstance(values, list) else [values])]
        content = request.get("content")
        if content is not None and not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "text/plain"))
        async with self._session.request(request.get("method", "GET"), request["uri"], data=content,
                                         headers=headers) as response:
            body = await response.read()
            return json.dumps({"statusCode": response.status, "headers": durable_http_headers(response.headers),
                               "content": body.decode(response.charset or "utf-8", errors="replace")})

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def durable_http_headers(headers: Any) -> dict[str, str | list[str]]:
    """DurableHttpResponse.headers as the extension serializes them (HttpHeadersConverter): a header that came
    once is a string, one that came more than once a list of strings; content headers left out."""
    out: dict[str, str | list[str]] = {}
    names: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in _CONTENT_HEADERS:
            continue
        key = names.setdefault(name.lower(), name)
        if key not in out:
            out[key] = value
        else:
            previous = out[key]
            out[key] = (previous if isinstance(previous, list) else [previous]) + [value]
    return out

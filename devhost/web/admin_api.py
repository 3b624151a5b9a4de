"""The host's admin routes: its status and functions (read-only, as the Functions host's /admin API), and time
travel's POST /admin/devhost/advance when --time-travel is on (when off, a 404 that says how to turn it on)."""
from __future__ import annotations

import math
from typing import Any, Awaitable, Callable

from aiohttp import web

from devhost.errors import BadRequest, NotFound
from devhost.web.request_params import flag, param, seconds


class AdminApi:
    """The host's read-only admin routes: its status (with the functions that were not loaded) and its functions."""

    def __init__(self, functions: list[dict[str, Any]] | None = None, errors: list[str] | None = None) -> None:
        self.functions = functions or []
        self.errors = errors or []

    async def host_status(self, request: web.Request) -> web.Response:
        return web.json_response({"state": "Running", **({"errors": self.errors} if self.errors else {})})

    async def list_functions(self, request: web.Request) -> web.Response:
        return web.json_response(self.functions)

    async def function(self, request: web.Request) -> web.Response:
        name = request.match_info["name"].lower()
        found = next((f for f in self.functions if f["name"].lower() == name), None)
        if found is None:
            raise NotFound(f"No function named {name}.")
        return web.json_response(found)

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get("/admin/host/status", self.host_status), web.get("/admin/functions", self.list_functions),
                web.get("/admin/functions/{name}", self.function)]


class TimeTravelApi:
    """POST /admin/devhost/advance?seconds=N[&timeout=S][&stepwise=false] (only with --time-travel): durable time
    moves ahead, timer by timer unless stepwise=false (devhost.runtime.time_travel). `advance` moves the host's clock and returns
    once what became due has run; a bad or negative number is a 400 like any bad argument."""

    def __init__(self, advance: Callable[[float, float, bool], Awaitable[dict[str, Any]]]) -> None:
        self.advance = advance

    async def handle(self, request: web.Request) -> web.Response:
        text = param(request, "seconds") or "0"
        try:
            forward = float(text)
            if not math.isfinite(forward) or forward < 0:
                raise ValueError(text)
        except ValueError as exc:
            raise BadRequest(f"'{text}' is not a number of seconds to move forward: time only moves forward.") \
                from exc
        timeout = seconds(request, "timeout")
        return web.json_response(await self.advance(forward, 60.0 if timeout is None else max(0.0, timeout),
                                                    flag(request, "stepwise", default=True)))

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.post("/admin/devhost/advance", self.handle)]


class TimeTravelOff:
    """POST /admin/devhost/advance on a devhost started without --time-travel: still a 404 (there is no such
    route to serve), with a body that says why and how to turn it on, instead of the host's empty 404."""

    MESSAGE = ("Time travel is off: start devhost with --time-travel (python -m devhost --time-travel) to move "
               "durable time forward with POST /admin/devhost/advance?seconds=N.")

    async def handle(self, request: web.Request) -> web.Response:
        return web.json_response({"Message": self.MESSAGE}, status=404)

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.post("/admin/devhost/advance", self.handle)]

"""The app's httpTrigger functions under the route prefix: a request matched to its function's route template,
checked against its authLevel, passed through azure.functions' HTTP converter and answered from its output."""
from __future__ import annotations

import logging
from typing import Callable

from aiohttp import web
from azure.functions import meta

from devhost.app.bindings import Invoker, client_inputs, http_datum
from devhost.app.route_templates import RouteTemplate
from devhost.errors import WorkerUnavailable
from devhost.protocol.failures import FailureDetails
from devhost.protocol.stories import Storyteller
from devhost.tracebacks import exception_text
from devhost.web.guard import Guard, Refusal
from devhost.web.request_params import body

log = logging.getLogger("devhost")


def refused(refusal: Refusal) -> web.Response:
    return web.Response(status=refusal.status, text=refusal.message or None)


class FunctionRoutes:
    """Dispatches /<routePrefix>/... to the app's httpTrigger functions."""

    def __init__(self, functions: list[tuple[RouteTemplate, frozenset[str], Invoker]],
                 client_payload: Callable[[], str], guard: Guard | None = None,
                 stories: Storyteller | None = None) -> None:
        self.functions = functions
        self.client_payload = client_payload
        self.guard = guard or Guard()
        self.stories = stories or Storyteller()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info.get("tail", "")
        allowed = False
        for template, methods, invocation in self.functions:
            params = template.match(path)
            if params is None:
                continue
            if methods and request.method.lower() not in methods:
                allowed = True
                continue
            return await self._invoke(request, invocation, params)
        raise web.HTTPMethodNotAllowed(request.method, []) if allowed else web.HTTPNotFound()

    async def _invoke(self, request: web.Request, invocation: Invoker, params: dict[str, str]) -> web.Response:
        spec = invocation.fn.spec
        refusal = self.guard.function_access(spec.name, str(spec.trigger.raw.get("authLevel") or "function"),
                                             request.headers, request.query)
        if refusal is not None:
            return refused(refusal)
        data = await body(request)
        inputs = client_inputs(invocation.fn.spec, self.client_payload())
        for b in invocation.fn.spec.bindings:
            if b.type == "httpTrigger":
                inputs[b.name] = http_datum(request.method, str(request.url), dict(request.headers),
                                            dict(request.query), params, data, request.content_type)
        try:
            outputs = await invocation.call(inputs)
        except WorkerUnavailable as exc:  # say why, rather than hang while no worker process can start
            log.error("Executed 'Functions.%s' (Failed, %s)", invocation.fn.spec.name, exc)
            return web.Response(status=500, text=str(exc))
        except Exception as exc:  # the story in one line; the user's whole traceback with --verbose (debug)
            failure = FailureDetails.of(exc)
            story = self.stories.tell(failure.cause, failure.where)
            log.error("Executed 'Functions.%s' (Failed, %s)", spec.name, story)
            log.debug("%s", getattr(exc, "chain_text", "") or exception_text(exc))
            return web.Response(status=500)
        http_out = next((outputs[b.name] for b in invocation.fn.spec.bindings
                         if b.type == "http" and b.name in outputs), None)
        return _to_response(http_out)


def _to_response(datum: meta.Datum | None) -> web.Response:
    """An http output datum (from HttpResponseConverter.encode) as an aiohttp response."""
    if datum is None or datum.value is None:
        return web.Response(status=204)
    if datum.type == "string":
        return web.Response(status=200, text=datum.value)
    value = datum.value
    headers = {k: v.value for k, v in (value.get("headers") or {}).items()}
    body = value["body"].value if value.get("body") is not None else b""
    response = web.Response(status=int(value["status_code"].value), body=body, headers=headers)
    for cookie in value.get("cookies") or []:
        for morsel in cookie.values():
            response.headers.add("Set-Cookie", morsel.OutputString())
    return response

"""The HTTP surface: the app's httpTrigger functions under the route prefix, and the Durable management API on
/runtime/webhooks/durabletask and on the RPC base path /durabletask. Handlers parse, call operations, respond;
errors become status codes in one middleware."""
from __future__ import annotations

import asyncio
import json
import logging
import math
import traceback
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import quote

from aiohttp import web
from azure.functions import meta

from . import jsontext
from .bindings import Invocation, client_inputs, http_datum
from .bodies import DEFAULT_LIMIT, ByteBudget, release_body
from .errors import (BadRequest, Conflict, DevhostError, Gone, InvalidOperation, NotFound, StoreUnavailable,
                     WorkerUnavailable)
from .guard import Guard, Refusal
from .model import RPC_PATH, TERMINAL_STATUSES, WEBHOOK_PATH, EntityQuery, Query, RuntimeStatus
from .operations import Operations, parse_time
from .routes import RouteTemplate
from .status import management_urls
from .watch import Finished

log = logging.getLogger("devhost")
WEBHOOK, RPC = WEBHOOK_PATH, RPC_PATH
DASHBOARD_PATH = "/devhost/"
DASHBOARD_FILES = Path(__file__).resolve().parent / "dashboard"
OPENAPI_PATH = "/devhost/openapi.json"
OPENAPI_FILE = Path(__file__).resolve().parent / "openapi.json"
JSON_READER_EXCEPTION = "Newtonsoft.Json.JsonReaderException"
EMPTY_KEY = "$"  # the entity key that stands for the empty key in GET entities/{name}/$
MAX_TOP = 2**31 - 1  # top is an Int32 in the extension
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RUNNING_STATUSES = {RuntimeStatus.Pending, RuntimeStatus.Running, RuntimeStatus.ContinuedAsNew,
                    RuntimeStatus.Suspended}


def _error_body(message: str, exc: BaseException, exception_type: str) -> dict[str, Any]:
    return {"Message": message, "ExceptionMessage": str(exc), "ExceptionType": exception_type,
            "StackTrace": "".join(traceback.format_tb(exc.__traceback__)) if exc.__traceback__ else ""}


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one place domain errors become HTTP answers, as the extension's HttpApiHandler gives them."""
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        # Unknown routes and methods are the host's plain 404: empty body (the SDK parses every body as JSON).
        return web.Response(status=404)
    except web.HTTPException:
        raise
    except BadRequest as exc:
        if exc.bare:
            return web.json_response({"Message": str(exc)}, status=400)
        return web.json_response(_error_body(exc.message, exc, exc.exception_type), status=400)
    except NotFound:
        return web.Response(status=404)
    except Gone:
        return web.Response(status=410)
    except StoreUnavailable as exc:  # the store said why in the log, once; the caller may try again later
        return web.json_response({"Message": f"devhost cannot take this request now: {exc}"}, status=503)
    except Exception as exc:  # Conflict, InvalidOperation and anything unexpected: the host's 500
        if not isinstance(exc, DevhostError):
            log.exception("devhost: %s %s failed", request.method, request.path)
        return web.json_response(_error_body("Something went wrong while processing your request", exc,
                                             _EXCEPTION_TYPES.get(type(exc), f"System.{type(exc).__name__}")),
                                 status=500)


# The .NET exceptions the extension's 500s name for devhost's own errors.
_EXCEPTION_TYPES = {Conflict: "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException",
                    InvalidOperation: "System.InvalidOperationException"}


def _continuation(token: str | None) -> dict[str, str]:
    """The continuation header, on every page as the extension adds it: empty on the last page."""
    return {"x-ms-continuation-token": token or ""}


def _param(request: web.Request, name: str) -> str | None:
    """A query parameter, its name matched case-insensitively as the extension does."""
    for key, value in request.query.items():
        if key.lower() == name.lower():
            return value
    return None


def _flag(request: web.Request, name: str, default: bool = False) -> bool:
    value = _param(request, name)
    return default if value is None else value.strip().lower() == "true"


def _seconds(request: web.Request, name: str) -> float | None:
    """A query parameter in seconds; None when absent. BadRequest when it is not a number."""
    text = _param(request, name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise BadRequest(f"'{text}' is not a valid value for {name}: a number of seconds is expected.")
    return value


def _top(request: web.Request) -> int | None:
    """The page size `top`; None when absent. BadRequest when it is not an Int32, as the extension's is."""
    top = _param(request, "top")
    try:
        value = int(top) if top else None
    except ValueError:
        value = MAX_TOP + 1
    if value is not None and not -MAX_TOP - 1 <= value <= MAX_TOP:
        raise BadRequest(f"'{top}' is not a valid value for top: a whole number up to {MAX_TOP} is expected "
                         f"(0 or less: the default page of 100).")
    return value


async def _json_text(request: web.Request, require_json_type: bool = False) -> str | None:
    """The body as JSON text; None when empty. BadRequest when it is not JSON. With require_json_type (raiseEvent)
    the body must be application/json and JSON even when empty, as the extension checks it."""
    body = await request.read()
    if require_json_type and request.content_type.lower() != "application/json":
        raise BadRequest("Only application/json request content is supported", bare=True)
    if not body.strip() and not require_json_type:
        return None
    try:
        text = body.decode("utf-8-sig")
        jsontext.parse(text)
    except ValueError as exc:
        raise BadRequest(_reader_error(exc), "Invalid JSON content", JSON_READER_EXCEPTION) from exc
    return text


def _reader_error(exc: ValueError) -> str:
    """Why a body is not JSON, in a sentence (the decoder's own text for bytes that are not UTF-8)."""
    return str(exc) if not isinstance(exc, UnicodeDecodeError) else f"The body is not UTF-8 text: {exc.reason}."


class DurableApi:
    """Handlers of the management API (docs/protocol.md §2, §3)."""

    def __init__(self, ops: Operations, hub: str, system_key: str | None = None,
                 finished: Finished | None = None) -> None:
        self.ops = ops
        # create-and-wait requests wait here; the dispatcher wakes them when an instance's end is committed
        self.finished = Finished() if finished is None else finished
        self.hub = hub
        self.system_key = system_key  # when keys are required, the URLs handed out carry it as code=

    def check_status_body(self, request: web.Request, instance_id: str) -> dict[str, str]:
        """The start answer's body: the management URLs at the request's origin (the extension leaves out rewind)."""
        urls = management_urls(f"{request.url.origin()}{WEBHOOK}", quote(self.hub), quote(instance_id, safe=""),
                               self.system_key)
        urls["id"] = instance_id
        del urls["rewindPostUri"]
        return urls

    def _accepted(self, request: web.Request, instance_id: str) -> web.Response:
        body = self.check_status_body(request, instance_id)
        return web.json_response(body, status=202, headers={"Location": body["statusQueryGetUri"],
                                                            "Retry-After": "10"})

    async def start(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["functionName"]
        instance_id = request.match_info.get("instanceId")
        input_text = await _json_text(request)
        deadline, interval = self._wait_times(request)
        instance_id = self.ops.start(name, instance_id, input_text, _param(request, "version") or "")
        return await self._wait_or_accept(request, instance_id, deadline, interval)

    def _wait_times(self, request: web.Request) -> tuple[float | None, float | None]:
        """`timeout` and `pollingInterval` of a start or restart; checked before anything starts."""
        deadline, interval = _seconds(request, "timeout"), _seconds(request, "pollingInterval")
        if deadline is not None and interval is not None and interval > deadline:
            raise BadRequest(f"Total timeout {deadline} should be bigger than retry timeout {interval}")
        return deadline, interval

    async def _wait_or_accept(self, request: web.Request, instance_id: str, deadline: float | None,
                              interval: float | None) -> web.StreamResponse:
        """Create-and-wait when both timeout and pollingInterval are given, as the extension does: the output when
        the instance completes in time, its status when it fails or is terminated, else the check-status 202."""
        if deadline is None or interval is None:
            return self._accepted(request, instance_id)
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        while True:
            instance = self.ops.get(instance_id)
            if instance is not None and instance.status == RuntimeStatus.Completed:
                return web.Response(status=200, text=instance.output or "null", content_type="application/json")
            if instance is not None and instance.status in TERMINAL_STATUSES:  # Failed, Terminated: the status
                return web.json_response(self.ops.status(instance_id))
            if loop.time() >= end:
                return self._accepted(request, instance_id)
            # the dispatcher wakes us once the instance finishes; pollingInterval bounds each wait all the same
            await self.finished.wait(instance_id, max(0.01, min(interval, end - loop.time())))

    async def status(self, request: web.Request) -> web.StreamResponse:
        instance_id = request.match_info["instanceId"]
        body = self.ops.status(instance_id, _flag(request, "showHistory"), _flag(request, "showHistoryOutput"),
                               _flag(request, "showInput", True))
        status = RuntimeStatus(body["runtimeStatus"])
        if status in RUNNING_STATUSES:
            return web.json_response(body, status=202, headers={"Location": str(request.url), "Retry-After": "5"})
        code = 500 if status == RuntimeStatus.Failed and _flag(request, "returnInternalServerErrorOnFailure") \
            else 200
        return web.json_response(body, status=code)

    def _query(self, request: web.Request) -> Query:
        statuses = set()
        for part in (_param(request, "runtimeStatus") or "").split(","):
            if part.strip():
                match = next((s for s in RuntimeStatus if s.value.lower() == part.strip().lower()), None)
                if match is None:
                    raise BadRequest(f"'{part.strip()}' is not a valid runtimeStatus.")
                statuses.add(match)
        return Query(created_from=parse_time(_param(request, "createdTimeFrom")),
                     created_to=parse_time(_param(request, "createdTimeTo")), statuses=frozenset(statuses),
                     prefix=_param(request, "instanceIdPrefix"), top=_top(request),
                     continuation=request.headers.get("x-ms-continuation-token") or None)

    async def query(self, request: web.Request) -> web.StreamResponse:
        # OrchestrationStatusQueryCondition.ShowInput defaults to true (extension 2.1 and later)
        items, token = self.ops.query(self._query(request), _flag(request, "showInput", True))
        return web.json_response(items, headers=_continuation(token))

    async def purge(self, request: web.Request) -> web.StreamResponse:
        deleted = self.ops.purge(request.match_info["instanceId"])
        return web.json_response({"instancesDeleted": deleted})

    async def purge_by(self, request: web.Request) -> web.StreamResponse:
        if not _param(request, "createdTimeFrom"):  # the extension answers this one with a JSON string
            return web.json_response("Please provide value for 'createdTimeFrom' parameter.", status=400)
        deleted = self.ops.purge_by(self._query(request))
        if deleted == 0:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": deleted})

    async def operation(self, request: web.Request) -> web.StreamResponse:
        instance_id, op = request.match_info["instanceId"], request.match_info["operation"].lower()
        reason = _param(request, "reason")
        if op == "terminate":
            self.ops.terminate(instance_id, reason)
        elif op == "suspend":
            self.ops.suspend(instance_id, reason)
        elif op == "resume":
            self.ops.resume(instance_id, reason)
        elif op == "rewind":
            self.ops.rewind(instance_id, reason)
        elif op == "restart":
            new_id = _param(request, "restartWithNewInstanceId")
            deadline, interval = self._wait_times(request)
            restarted = self.ops.restart(instance_id, new_id is None or new_id.lower() != "false")
            return await self._wait_or_accept(request, restarted, deadline, interval)
        else:
            raise web.HTTPNotFound()
        return web.Response(status=202)

    async def raise_event(self, request: web.Request) -> web.StreamResponse:
        instance_id = request.match_info["instanceId"]
        try:
            data = await _json_text(request, require_json_type=True)
        except BadRequest:
            self.ops.accepts_events(instance_id)  # an unknown or finished instance is 404/410 first, as in the host
            raise
        self.ops.raise_event(instance_id, request.match_info["eventName"], data)
        return web.Response(status=202)

    async def list_entities(self, request: web.Request) -> web.StreamResponse:
        """GET entities[/{entityName}]: a page of entities with state, as the extension's ListEntitiesAsync."""
        query = EntityQuery(name=request.match_info.get("entityName") or None,
                            last_operation_from=parse_time(_param(request, "lastOperationTimeFrom")),
                            last_operation_to=parse_time(_param(request, "lastOperationTimeTo")), top=_top(request),
                            continuation=request.headers.get("x-ms-continuation-token") or None)
        items, token = self.ops.list_entities(query, _flag(request, "fetchState"))
        return web.json_response(items, headers=_continuation(token))

    async def entity(self, request: web.Request) -> web.StreamResponse:
        name, key = request.match_info["entityName"], request.match_info["entityKey"]
        if request.method == "GET":  # "$" reads the entity whose key is empty (only on GET, as in the extension)
            return web.Response(text=self.ops.read_entity(name, "" if key == EMPTY_KEY else key),
                                content_type="application/json")
        if request.method not in ("POST", "DELETE"):
            raise web.HTTPNotFound()
        operation = "delete" if request.method == "DELETE" else (_param(request, "op") or "")
        if request.content_type.lower() == "application/json":
            try:
                input_text = await _json_text(request)
            except BadRequest as exc:  # the extension answers this one with a message alone
                raise BadRequest(f"Could not parse JSON content: {exc}", bare=True) from exc
        else:  # the extension passes any other content as a plain string
            body = await request.read()
            input_text = json.dumps(body.decode("utf-8", errors="replace")) if body else None
        self.ops.signal_entity(name, key, operation, input_text)
        return web.Response(status=202)

    def routes(self, prefix: str) -> list[web.AbstractRouteDef]:
        return [
            web.post(prefix + "/orchestrators/{functionName}", self.start),
            web.post(prefix + "/orchestrators/{functionName}/{instanceId}", self.start),
            web.get(prefix + "/instances", self.query),
            web.get(prefix + "/instances/", self.query),
            web.delete(prefix + "/instances", self.purge_by),
            web.delete(prefix + "/instances/", self.purge_by),
            web.get(prefix + "/instances/{instanceId}", self.status),
            web.delete(prefix + "/instances/{instanceId}", self.purge),
            web.post(prefix + "/instances/{instanceId}/raiseEvent/{eventName}", self.raise_event),
            web.post(prefix + "/instances/{instanceId}/{operation}", self.operation),
            web.get(prefix + "/entities", self.list_entities),
            web.get(prefix + "/entities/", self.list_entities),
            web.get(prefix + "/entities/{entityName}", self.list_entities),
            web.get(prefix + "/entities/{entityName}/", self.list_entities),
            web.route("*", prefix + "/entities/{entityName}/{entityKey}", self.entity),
            web.post(prefix + "/entities/{entityName}", self.entity_without_key),
            web.post(prefix + "/entities/{entityName}/", self.entity_without_key),
            web.delete(prefix + "/entities/{entityName}", self.entity_without_key),
            web.delete(prefix + "/entities/{entityName}/", self.entity_without_key),
        ]

    async def entity_without_key(self, request: web.Request) -> web.StreamResponse:
        """POST or DELETE entities/{name}: the extension's EntityId refuses the missing key (ArgumentNullException,
        answered with its message alone)."""
        raise BadRequest("Invalid entity id: entity key must not be null. (Parameter 'entityKey')", bare=True)


class FunctionRoutes:
    """Dispatches /<routePrefix>/... to the app's httpTrigger functions."""

    def __init__(self, functions: list[tuple[RouteTemplate, frozenset[str], Invocation]],
                 client_payload: Callable[[], str], guard: Guard | None = None) -> None:
        self.functions = functions
        self.client_payload = client_payload
        self.guard = guard or Guard()

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

    async def _invoke(self, request: web.Request, invocation: Invocation, params: dict[str, str]) -> web.Response:
        spec = invocation.fn.spec
        refusal = self.guard.function_access(spec.name, str(spec.trigger.raw.get("authLevel") or "function"),
                                             request.headers, request.query)
        if refusal is not None:
            return _refused(refusal)
        body = await request.read()
        inputs = client_inputs(invocation.fn.spec, self.client_payload())
        for b in invocation.fn.spec.bindings:
            if b.type == "httpTrigger":
                inputs[b.name] = http_datum(request.method, str(request.url), dict(request.headers),
                                            dict(request.query), params, body, request.content_type)
        try:
            outputs = await invocation.call(inputs)
        except WorkerUnavailable as exc:  # say why, rather than hang while no worker process can start
            log.error("Executed 'Functions.%s' (Failed, %s)", invocation.fn.spec.name, exc)
            return web.Response(status=500, text=str(exc))
        except Exception:
            log.exception("Executed 'Functions.%s' (Failed)", invocation.fn.spec.name)
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


def task_hub_middleware(hub: str) -> Any:
    """The management API's `taskHub` parameter selects the hub (case-insensitive). devhost serves one: for another
    hub an instance or entity does not exist (404), and starting one there is refused (400) rather than left
    Pending forever with nothing to run it."""
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        asked = _param(request, "taskHub")
        if asked and asked.lower() != hub.lower() and request.path.startswith((WEBHOOK + "/", RPC + "/")):
            if "/orchestrators/" in request.path:
                raise BadRequest(f"The task hub '{asked}' is not served by this host; it serves '{hub}'.")
            raise NotFound(f"No task hub '{asked}' here.")
        return await handler(request)
    return check


def durable_middleware(ops: Operations) -> Any:
    """No answer leaves before what the request changed is committed (with group commit, at the end of the
    event loop's turn): a 202 means the work survives a crash."""
    @web.middleware
    async def wait(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        await ops.store.durable()
        return response
    return wait


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
    moves ahead, timer by timer unless stepwise=false (devhost.travel). `advance` moves the host's clock and returns
    once what became due has run; a bad or negative number is a 400 like any bad argument."""

    def __init__(self, advance: Callable[[float, float, bool], Awaitable[dict[str, Any]]]) -> None:
        self.advance = advance

    async def handle(self, request: web.Request) -> web.Response:
        text = _param(request, "seconds") or "0"
        try:
            seconds = float(text)
            if not math.isfinite(seconds) or seconds < 0:
                raise ValueError(text)
        except ValueError as exc:
            raise BadRequest(f"'{text}' is not a number of seconds to move forward: time only moves forward.") \
                from exc
        timeout = _seconds(request, "timeout")
        return web.json_response(await self.advance(seconds, 60.0 if timeout is None else max(0.0, timeout),
                                                    _flag(request, "stepwise", default=True)))

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.post("/admin/devhost/advance", self.handle)]


def _refused(refusal: Refusal) -> web.Response:
    return web.Response(status=refusal.status, text=refusal.message or None)


def guard_middleware(guard: Guard) -> Any:
    """Outermost: the access policy of guard.py (Host allowlist, same-origin changes, keys) before any handler;
    CORS headers on the answers to origins named with --cors."""
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        refusal = guard.admit(request.method, request.scheme, request.path, request.headers, request.query,
                              request.remote)
        if refusal is not None:
            return _refused(refusal)
        preflight = guard.preflight(request.method, request.headers)
        if preflight is not None:
            return web.Response(status=204, headers=preflight)
        cors = guard.cors_headers(request.headers)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers.update(cors)
            raise
        response.headers.update(cors)
        return response
    return check


def body_middleware(limit: int, budget: ByteBudget) -> Any:
    """A body over the size limit is refused with the host's 413 from its Content-Length, before it is read (a
    chunked one as soon as it grows past the limit); every body waits for room in the budget before it is read."""
    @web.middleware
    async def bounded(request: web.Request, handler: Handler) -> web.StreamResponse:
        size = request.content_length
        if size is not None and size > limit:
            return web.Response(status=413)
        if not request.body_exists:
            return await handler(request)
        try:
            async with budget.hold(limit if size is None else size):
                return await handler(request)
        finally:
            release_body(size)
    return bounded


def make_app(api: DurableApi, functions: FunctionRoutes, route_prefix: str, admin: AdminApi | None = None,
             time_travel: TimeTravelApi | None = None, body_limit: int = DEFAULT_LIMIT,
             budget: ByteBudget | None = None) -> web.Application:
    """The aiohttp application: management API on both base paths, the admin API (and time travel when on), the
    dashboard, then the app's functions. The host adds the lifecycle of what serves them to its cleanup_ctx."""
    app = web.Application(middlewares=[guard_middleware(functions.guard), body_middleware(body_limit,
                                                                                          budget or ByteBudget()),
                                       errors_middleware, durable_middleware(api.ops), task_hub_middleware(api.hub)],
                          client_max_size=body_limit)
    app.add_routes(api.routes(WEBHOOK) + api.routes(RPC))
    app.router.add_get("/", _home)
    app.add_routes((admin or AdminApi()).routes())
    if time_travel is not None:
        app.add_routes(time_travel.routes())
    app.router.add_get(DASHBOARD_PATH.rstrip("/"), _dashboard_redirect)
    app.router.add_get(DASHBOARD_PATH, _dashboard_page)
    app.router.add_get(DASHBOARD_PATH + "instances/{instanceId:.+}", _dashboard_page)  # a deep link as a path
    app.router.add_get(OPENAPI_PATH, _openapi)
    app.router.add_static(DASHBOARD_PATH.rstrip("/"), DASHBOARD_FILES)
    prefix = f"/{route_prefix}" if route_prefix else ""
    app.router.add_route("*", prefix + "/{tail:.*}", functions.handle)
    return app


async def _openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3 description of the management API (devhost/openapi.json, docs/http-api.md)."""
    return web.FileResponse(OPENAPI_FILE, headers={"Content-Type": "application/json"})


async def _home(request: web.Request) -> web.Response:
    return web.Response(text=f"devhost: your Functions app is up and running. Dashboard: {DASHBOARD_PATH}\n")


async def _dashboard_redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(DASHBOARD_PATH + (f"?{request.query_string}" if request.query_string else ""))


async def _dashboard_page(request: web.Request) -> web.FileResponse:
    """The dashboard's page; its script talks to the management API only (docs/dashboard.md)."""
    return web.FileResponse(DASHBOARD_FILES / "index.html", headers={"Cache-Control": "no-cache"})

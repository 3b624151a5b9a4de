"""The HTTP server: the aiohttp application with the management API on /runtime/webhooks/durabletask and on the
RPC base path /durabletask, the admin API, the dashboard, then the app's httpTrigger functions; and the middlewares
that guard every request, bound its body, wait for its commit and turn errors into status codes in one place."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from devhost.errors import BadRequest, Conflict, DevhostError, Gone, InvalidOperation, NotFound, StoreUnavailable
from devhost.model import PROGRESSING_STATUSES, RPC_PATH, TERMINAL_STATUSES, WEBHOOK_PATH, RuntimeStatus
from devhost.tracebacks import stack_text
from devhost.web.admin_api import AdminApi, TimeTravelApi, TimeTravelOff
from devhost.web.bodies import (
    DEFAULT_LIMIT,
    BodyTooLarge,
    BodyTooSlow,
    ByteBudget,
    ClientGone,
    MinDataRate,
    read_body,
    release_body,
)
from devhost.web.dashboard_api import DashboardApi
from devhost.web.function_routes import FunctionRoutes, refused
from devhost.web.guard import Guard
from devhost.web.management_api import DurableApi
from devhost.web.request_params import BODY, param

log = logging.getLogger("devhost")
WEBHOOK, RPC = WEBHOOK_PATH, RPC_PATH
DASHBOARD_PATH = "/devhost/"
DASHBOARD_FILES = Path(__file__).resolve().parent / "dashboard"
OPENAPI_PATH = "/devhost/openapi.json"
OPENAPI_FILE = Path(__file__).resolve().parent / "openapi.json"
CONSTANTS_PATH = DASHBOARD_PATH + "constants.js"
# The order the dashboard offers statuses to filter by: what is going on first, then how instances ended.
STATUS_MENU = (RuntimeStatus.Running, RuntimeStatus.Pending, RuntimeStatus.Suspended, RuntimeStatus.Completed,
               RuntimeStatus.Failed, RuntimeStatus.Terminated, RuntimeStatus.ContinuedAsNew, RuntimeStatus.Canceled)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FUNCTIONS_ROUTE = "app-functions"  # the route of the app's httpTrigger functions: their answers are the user's
# On every answer of devhost's own (dashboard, management and RPC API, admin API, home page, its own 404s): no page
# of another origin may frame it (clickjacking: two clicks on a hidden frame could terminate an instance), no MIME
# sniffing, no Referer (the dashboard's URL may carry ?code=<key>), and the dashboard runs only its own files: no
# inline script, style attribute or handler, nothing from elsewhere. docs/security.md §4 lists where they go.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _error_body(message: str, exc: BaseException, exception_type: str) -> dict[str, Any]:
    return {"Message": message, "ExceptionMessage": str(exc), "ExceptionType": exception_type,
            "StackTrace": stack_text(exc) if exc.__traceback__ else ""}


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


def task_hub_middleware(hub: str) -> Any:
    """The management API's `taskHub` parameter selects the hub (case-insensitive). devhost serves one: for another
    hub an instance or entity does not exist (404), and starting one there is refused (400) rather than left
    Pending forever with nothing to run it."""
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        asked = param(request, "taskHub")
        if asked and asked.lower() != hub.lower() and request.path.startswith((WEBHOOK + "/", RPC + "/")):
            if "/orchestrators/" in request.path:
                raise BadRequest(f"The task hub '{asked}' is not served by this host; it serves '{hub}'.")
            raise NotFound(f"No task hub '{asked}' here.")
        return await handler(request)
    return check


def durable_middleware(durable: Callable[[], Awaitable[None]]) -> Any:
    """No answer leaves before what the request changed is committed (with group commit, at the end of the
    event loop's turn): a 202 means the work survives a crash. `durable` waits for that commit."""
    @web.middleware
    async def wait(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        await durable()
        return response
    return wait


def guard_middleware(guard: Guard) -> Any:
    """Outermost: the access policy of guard.py (Host allowlist, same-origin changes, keys) before any handler;
    CORS headers on the answers to origins named with --cors."""
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        refusal = guard.admit(request.method, request.scheme, request.path, request.headers, request.query,
                              request.remote)
        if refusal is not None:
            return refused(refusal)
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


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare, so that every answer gets them, errors, redirects and static files included: devhost's
    own answers carry SECURITY_HEADERS; the app's HTTP functions' answers are left as the user made them, as the
    Functions host leaves them."""
    if request.match_info.route.name != FUNCTIONS_ROUTE:
        response.headers.update(SECURITY_HEADERS)


def body_middleware(limit: int, budget: ByteBudget, rate: MinDataRate = MinDataRate()) -> Any:
    """The body is read here, before any handler, and the handler gets it whole (request_params.body). A body over
    the size limit is refused with the host's 413 from its Content-Length before it is read (a chunked one as soon
    as it grows past the limit); one that arrives slower than Kestrel's minimum data rate is answered 408; a client
    that goes away mid-body is one line in the log. Each answer releases the body's budget, which is only held while
    the body is read: never through the handler's run (a create-and-wait start may wait minutes)."""
    @web.middleware
    async def bounded(request: web.Request, handler: Handler) -> web.StreamResponse:
        size = request.content_length
        if size is not None and size > limit:
            return web.Response(status=413)
        if not request.body_exists:
            return await handler(request)
        try:
            request[BODY] = await read_body(request.content.readany, limit, budget, rate)
        except BodyTooLarge:
            return await _closing(request, 413)
        except BodyTooSlow as exc:
            log.info("devhost: %s %s answered 408: its body came slower than %g bytes a second (%s)",
                     request.method, request.path, rate.bytes_per_second, exc)
            return await _closing(request, 408)
        except ClientGone as exc:
            log.info("devhost: %s %s: the client went away before its body arrived (%s)", request.method,
                     request.path, exc)
            return web.Response(status=400)  # nobody reads it: the connection is closed already
        except HttpProcessingError as exc:  # a chunked body whose framing is broken
            return await _closing(request, 400, exc.message)
        try:
            return await handler(request)
        finally:
            del request[BODY]
            release_body(size)
    return bounded


async def _closing(request: web.Request, status: int, text: str | None = None) -> web.StreamResponse:
    """An answer before the body was read to its end, and then the connection closed, as Kestrel closes it: aiohttp
    would otherwise go on reading and discarding what the client sends for up to ten seconds."""
    response = web.Response(status=status, text=text)
    response.force_close()
    try:
        await response.prepare(request)
        await response.write_eof()
    except ConnectionError:  # the client went away too, as the answer left: nobody to tell (aiohttp lets it be)
        log.info("devhost: %s %s: the client went away before its %d answer", request.method, request.path, status)
    request.protocol.force_close()  # what was written is still sent: the transport closes once it is flushed
    return response


def make_app(api: DurableApi, functions: FunctionRoutes, route_prefix: str, durable: Callable[[], Awaitable[None]],
             admin: AdminApi | None = None, time_travel: TimeTravelApi | None = None, body_limit: int = DEFAULT_LIMIT,
             budget: ByteBudget | None = None, rate: MinDataRate = MinDataRate()) -> web.Application:
    """The aiohttp application: management API on both base paths, the admin API (and time travel when on), the
    dashboard, then the app's functions. The host adds the lifecycle of what serves them to its cleanup_ctx."""
    app = web.Application(middlewares=[guard_middleware(functions.guard),
                                       body_middleware(body_limit, budget or ByteBudget(), rate),
                                       errors_middleware, durable_middleware(durable), task_hub_middleware(api.hub)],
                          client_max_size=body_limit)
    app.add_routes(api.routes(WEBHOOK) + api.routes(RPC))
    app.router.add_get("/", _home)
    app.add_routes((admin or AdminApi()).routes())
    app.add_routes((time_travel or TimeTravelOff()).routes())
    app.add_routes(DashboardApi(api.ops).routes())
    app.router.add_get(DASHBOARD_PATH.rstrip("/"), _dashboard_redirect)
    app.router.add_get(DASHBOARD_PATH, _dashboard_page)
    app.router.add_get(DASHBOARD_PATH + "instances/{instanceId:.+}", _dashboard_page)  # a deep link as a path
    app.router.add_get(OPENAPI_PATH, _openapi)
    app.router.add_get(CONSTANTS_PATH, _constants_module)
    app.router.add_static(DASHBOARD_PATH.rstrip("/"), DASHBOARD_FILES)
    prefix = f"/{route_prefix}" if route_prefix else ""
    app.router.add_route("*", prefix + "/{tail:.*}", functions.handle, name=FUNCTIONS_ROUTE)
    app.on_response_prepare.append(_security_headers)
    return app


async def _openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3 description of the management API (devhost/web/openapi.json, docs/http-api.md)."""
    return web.FileResponse(OPENAPI_FILE, headers={"Content-Type": "application/json"})


def constants_module() -> str:
    """What the dashboard shares with the host, as a JavaScript module made from the one definition in devhost.model:
    the management API's base path and the runtime-status sets."""
    def names(statuses: frozenset[RuntimeStatus]) -> str:
        return json.dumps([s.value for s in STATUS_MENU if s in statuses])
    return ("// Served by devhost from devhost/model.py: the one definition of these constants.\n"
            f"export const API = {json.dumps(WEBHOOK_PATH)};\n"
            f"export const STATUSES = {json.dumps([s.value for s in STATUS_MENU])};\n"
            f"export const FINISHED = new Set({names(TERMINAL_STATUSES)});\n"
            f"export const RUNNING = new Set({names(PROGRESSING_STATUSES)});\n")


async def _constants_module(request: web.Request) -> web.Response:
    return web.Response(text=constants_module(), content_type="text/javascript", headers={"Cache-Control": "no-cache"})


async def _home(request: web.Request) -> web.Response:
    return web.Response(text=f"devhost: your Functions app is up and running. Dashboard: {DASHBOARD_PATH}\n")


async def _dashboard_redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(DASHBOARD_PATH + (f"?{request.query_string}" if request.query_string else ""))


async def _dashboard_page(request: web.Request) -> web.FileResponse:
    """The dashboard's page; its script talks to the management API only (docs/dashboard.md)."""
    return web.FileResponse(DASHBOARD_FILES / "index.html", headers={"Cache-Control": "no-cache"})

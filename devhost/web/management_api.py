"""The Durable management API's handlers (docs/protocol.md §2, §3): each parses the request, calls Operations and
answers; errors become status codes in server.py's one middleware."""
from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from urllib.parse import quote

from aiohttp import web

from devhost.errors import BadRequest, InvalidOperation
from devhost.model import ACTIVE_STATUSES, TERMINAL_STATUSES, WEBHOOK_PATH, EntityQuery, Query, RuntimeStatus
from devhost.protocol.status_payloads import management_urls
from devhost.runtime.finish_waiters import Finished
from devhost.runtime.operations import Operations
from devhost.web.request_params import body, continuation, flag, json_text, param, params, time_param, top, wait_seconds

ROUTE_END = "{trailing_slashes:/*}"  # what the extension's Trim('/') of the path ignores
EMPTY_KEY = "$"  # the entity key that stands for the empty key in GET entities/{name}/$


# OrchestrationRuntimeStatus (and DurableTask.Core's OrchestrationStatus) by the numbers Enum.TryParse also reads
_STATUS_NUMBERS = {"0": RuntimeStatus.Running, "1": RuntimeStatus.Completed, "2": RuntimeStatus.ContinuedAsNew,
                   "3": RuntimeStatus.Failed, "4": RuntimeStatus.Canceled, "5": RuntimeStatus.Terminated,
                   "6": RuntimeStatus.Pending, "7": RuntimeStatus.Suspended}


def runtime_statuses(request: web.Request) -> frozenset[RuntimeStatus]:
    """The `runtimeStatus` filter as the extension's TryGetIEnumerableQueryParameterValue reads it: every value of
    the parameter, each split at commas; a part Enum.TryParse reads (a status name as spelled, case and all, or its
    number; blanks around) is kept, any other is left out. No part kept: no filter."""
    statuses = set()
    for part in (p.strip() for value in params(request, "runtimeStatus") for p in value.split(",")):
        match = _STATUS_NUMBERS.get(part.lstrip("+")) or next((s for s in RuntimeStatus if s.value == part), None)
        if match is not None:
            statuses.add(match)
    return frozenset(statuses)


def instance_query(request: web.Request) -> Query:
    """The filters of GET/DELETE instances/ (OrchestrationStatusQueryCondition) and the continuation header."""
    return Query(created_from=time_param(request, "createdTimeFrom"),
                 created_to=time_param(request, "createdTimeTo"), statuses=runtime_statuses(request),
                 prefix=param(request, "instanceIdPrefix"), top=top(request),
                 continuation=request.headers.get("x-ms-continuation-token") or None)


class DurableApi:
    """Handlers of the management API (docs/protocol.md §2, §3)."""

    def __init__(self, ops: Operations, hub: str, system_key: str | None = None,
                 finished: Finished | None = None, use_app_lease: bool = True) -> None:
        self.ops = ops
        self.use_app_lease = use_app_lease  # host.json extensions.durableTask.useAppLease (makeprimary)
        # create-and-wait requests wait here; the dispatcher wakes them when an instance's end is committed
        self.finished = Finished() if finished is None else finished
        self.hub = hub
        self.system_key = system_key  # when keys are required, the URLs handed out carry it as code=

    def check_status_body(self, request: web.Request, instance_id: str) -> dict[str, str]:
        """The start answer's body: the management URLs at the request's origin (the extension leaves out rewind)."""
        urls = management_urls(f"{request.url.origin()}{WEBHOOK_PATH}", quote(self.hub), quote(instance_id, safe=""),
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
        input_text = await json_text(request)
        # the extension's client starts every instance with its DefaultVersion, "": a `version` parameter is ignored
        instance_id = self.ops.start(name, instance_id or None, input_text)
        deadline, interval = self._wait_times(request)  # read after the start, as the extension reads them
        return await self._wait_or_accept(request, instance_id, deadline, interval)

    def _wait_times(self, request: web.Request) -> tuple[float | None, float | None]:
        """`timeout` and `pollingInterval` of a start or restart. The extension reads them once the instance has
        started (a value that fails, or a timeout shorter than the interval, is a 400 about an instance that runs)."""
        deadline, interval = wait_seconds(request, "timeout"), wait_seconds(request, "pollingInterval")
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
        status, body = self.ops.runtime_status(instance_id, flag(request, "showHistory"),
                                               flag(request, "showHistoryOutput"), flag(request, "showInput", True))
        if status in ACTIVE_STATUSES:
            return web.json_response(body, status=202, headers={"Location": str(request.url), "Retry-After": "5"})
        code = 500 if status == RuntimeStatus.Failed and flag(request, "returnInternalServerErrorOnFailure") \
            else 200
        return web.json_response(body, status=code)

    async def query(self, request: web.Request) -> web.StreamResponse:
        # OrchestrationStatusQueryCondition.ShowInput defaults to true (extension 2.1 and later)
        query = replace(instance_query(request), entities=True)  # the Azure Storage provider's query lists entities
        items, token = self.ops.query(query, flag(request, "showInput", True))
        return web.json_response(items, headers=continuation(token))

    async def purge(self, request: web.Request) -> web.StreamResponse:
        deleted = self.ops.purge(request.match_info["instanceId"])
        return web.json_response({"instancesDeleted": deleted})

    async def purge_by(self, request: web.Request) -> web.StreamResponse:
        if time_param(request, "createdTimeFrom") is None:  # the extension answers this one with a JSON string
            return web.json_response("Please provide value for 'createdTimeFrom' parameter.", status=400)
        deleted = self.ops.purge_by(instance_query(request))
        if deleted == 0:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": deleted})

    async def operation(self, request: web.Request) -> web.StreamResponse:
        instance_id, op = request.match_info["instanceId"], request.match_info["operation"].lower()
        reason = param(request, "reason")
        if op == "terminate":
            self.ops.terminate(instance_id, reason)
        elif op == "suspend":
            self.ops.suspend(instance_id, reason)
        elif op == "resume":
            self.ops.resume(instance_id, reason)
        elif op == "rewind":
            self.ops.rewind(instance_id, reason)
        elif op == "restart":
            restarted = self.ops.restart(instance_id, flag(request, "restartWithNewInstanceId", True))
            deadline, interval = self._wait_times(request)  # read after the restart, as the extension reads them
            return await self._wait_or_accept(request, restarted, deadline, interval)
        else:
            raise web.HTTPNotFound()
        return web.Response(status=202)

    async def raise_event(self, request: web.Request) -> web.StreamResponse:
        instance_id = request.match_info["instanceId"]
        try:
            data = await json_text(request, require_json_type=True)
        except BadRequest:
            self.ops.accepts_events(instance_id)  # an unknown or finished instance is 404/410 first, as in the host
            raise
        self.ops.raise_event(instance_id, request.match_info["eventName"], data)
        return web.Response(status=202)

    async def list_entities(self, request: web.Request) -> web.StreamResponse:
        """GET entities[/{entityName}]: a page of entities with state, as the extension's ListEntitiesAsync."""
        query = EntityQuery(name=request.match_info.get("entityName") or None,
                            last_operation_from=time_param(request, "lastOperationTimeFrom"),
                            last_operation_to=time_param(request, "lastOperationTimeTo"), top=top(request),
                            continuation=request.headers.get("x-ms-continuation-token") or None)
        items, token = self.ops.list_entities(query, flag(request, "fetchState"))
        return web.json_response(items, headers=continuation(token))

    async def entity(self, request: web.Request) -> web.StreamResponse:
        name, key = request.match_info["entityName"], request.match_info["entityKey"]
        if request.method == "GET":  # "$" reads the entity whose key is empty (only on GET, as in the extension)
            return web.Response(text=self.ops.read_entity(name, "" if key == EMPTY_KEY else key),
                                content_type="application/json")
        if request.method not in ("POST", "DELETE"):
            raise web.HTTPNotFound()
        operation = "delete" if request.method == "DELETE" else (param(request, "op") or "")
        if request.content_type.lower() == "application/json":
            try:
                input_text = await json_text(request)
            except BadRequest as exc:  # the extension answers this one with a message alone
                raise BadRequest(f"Could not parse JSON content: {exc}", bare=True) from exc
        else:  # the extension passes any other content as a plain string
            data = await body(request)
            input_text = json.dumps(data.decode("utf-8", errors="replace")) if data else None
        self.ops.signal_entity(name, key, operation, input_text)
        return web.Response(status=202)

    def routes(self, prefix: str) -> list[web.AbstractRouteDef]:
        """The extension's routes. Its HttpApiHandler trims every '/' from both ends of the path before it matches
        one, so each route takes trailing slashes (ROUTE_END) and `orchestrators/{name}/` starts with a new id."""
        def at(path: str) -> str:
            return prefix + path + ROUTE_END
        return [
            web.post(at("/orchestrators/{functionName}"), self.start),
            web.post(at("/orchestrators/{functionName}/{instanceId}"), self.start),
            web.get(at("/instances"), self.query),
            web.delete(at("/instances"), self.purge_by),
            web.get(at("/instances/{instanceId}"), self.status),
            web.delete(at("/instances/{instanceId}"), self.purge),
            web.post(at("/instances/{instanceId}/raiseEvent/{eventName}"), self.raise_event),
            web.post(at("/instances/{instanceId}/{operation}"), self.operation),
            web.get(at("/entities"), self.list_entities),
            web.get(at("/entities/{entityName}"), self.list_entities),
            web.route("*", at("/entities/{entityName}/{entityKey}"), self.entity),
            web.post(at("/entities"), self.entity_without_name),
            web.delete(at("/entities"), self.entity_without_name),
            web.post(at("/entities/{entityName}"), self.entity_without_key),
            web.delete(at("/entities/{entityName}"), self.entity_without_key),
            web.route("*", at("/makeprimary"), self.make_primary),
        ]

    async def entity_without_name(self, request: web.Request) -> web.StreamResponse:
        """POST or DELETE entities: the extension's entity route takes the name as optional, and its EntityId refuses
        the missing name (ArgumentNullException, answered with its message alone)."""
        raise BadRequest("Invalid entity id: entity name must not be a null or empty string. (Parameter "
                         "'entityName')", bare=True)

    async def entity_without_key(self, request: web.Request) -> web.StreamResponse:
        """POST or DELETE entities/{name}: the extension's EntityId refuses the missing key (ArgumentNullException,
        answered with its message alone)."""
        raise BadRequest("Invalid entity id: entity key must not be null. (Parameter 'entityKey')", bare=True)

    async def make_primary(self, request: web.Request) -> web.StreamResponse:
        """makeprimary, any method: the extension's DurableClient.MakeCurrentAppPrimaryAsync. With the app lease
        (host.json useAppLease, on by default) the Azure Storage provider takes the task hub's lease and the answer
        is an empty 200; devhost's one app always holds its hub. With useAppLease false the client refuses it (an
        InvalidOperationException: a 500)."""
        if not self.use_app_lease:
            raise InvalidOperation("Cannot make current app primary. This app is not using the AppLease feature.")
        return web.Response(status=200)

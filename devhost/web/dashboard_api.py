"""devhost's own read API for the dashboard, under /devhost/api/ (docs/dashboard.md): the instance list sorted,
newest first by default, with its total and the count of each status, and one entity with its last operation time
(200 with "exists": false when it has no state, so a page that waits for a delete logs no failed request).
The management API keeps the extension's answers (oldest first, continuation tokens); this one is devhost's only."""
from __future__ import annotations

from aiohttp import web

from devhost.errors import BadRequest
from devhost.model import InstanceOrder, Listing, Query, RuntimeStatus
from devhost.runtime.operations import Operations, parse_time
from devhost.web.management_api import EMPTY_KEY
from devhost.web.request_params import flag, param

API_PATH = "/devhost/api"
DEFAULT_TOP = 25
MAX_TOP = 1000  # a page the browser still draws at once; bulk actions read several
ORDERS = {"asc": False, "desc": True}


def _whole(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """A whole-number parameter within [low, high]; BadRequest naming the range otherwise."""
    text = param(request, name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise BadRequest(f"'{text}' is not a valid value for {name}: a whole number from {low} to {high} is "
                         "expected.")
    return value


def listing(request: web.Request) -> Listing:
    """The listing a request asks for: the management API's filters plus `name` (part of the orchestrator's name,
    any case), `sort` (createdTime, lastUpdatedTime, name, runtimeStatus), `order` (desc or asc), `top` (1 to
    1000, default 25) and `page` (from 1)."""
    sort = param(request, "sort") or InstanceOrder.createdTime.value
    order = (param(request, "order") or "desc").lower()
    found = next((o for o in InstanceOrder if o.value.lower() == sort.lower()), None)
    if found is None:
        raise BadRequest(f"'{sort}' is not a valid value for sort: one of "
                         f"{', '.join(o.value for o in InstanceOrder)} is expected.")
    if order not in ORDERS:
        raise BadRequest(f"'{order}' is not a valid value for order: asc or desc is expected.")
    top = _whole(request, "top", DEFAULT_TOP, 1, MAX_TOP)
    page = _whole(request, "page", 1, 1, 2**31 - 1)
    filters = Query(created_from=parse_time(param(request, "createdTimeFrom")),
                    created_to=parse_time(param(request, "createdTimeTo")), statuses=_statuses(request),
                    prefix=param(request, "instanceIdPrefix"), name=param(request, "name") or None)
    return Listing(filters, found, ORDERS[order], (page - 1) * top, top)



def _statuses(request: web.Request) -> frozenset[RuntimeStatus]:
    """The dashboard's `runtimeStatus` filter: names, comma-separated, any case. Its own API is strict where the
    management API reads as the extension does: a name that is no status is a 400 that says so."""
    statuses = set()
    for part in (p.strip() for p in (param(request, "runtimeStatus") or "").split(",")):
        if part:
            match = next((s for s in RuntimeStatus if s.value.lower() == part.lower()), None)
            if match is None:
                raise BadRequest(f"'{part}' is not a valid runtimeStatus.")
            statuses.add(match)
    return frozenset(statuses)

class DashboardApi:
    """GET /devhost/api/instances and GET /devhost/api/entities/{name}/{key}, read-only."""

    def __init__(self, ops: Operations) -> None:
        self.ops = ops

    async def instances(self, request: web.Request) -> web.Response:
        asked = listing(request)
        items, total, counts = self.ops.list_instances(asked, flag(request, "showInput"))
        return web.json_response({"instances": items, "total": total, "counts": counts,
                                  "page": asked.offset // asked.top + 1, "top": asked.top,
                                  "sort": asked.order.value, "order": "desc" if asked.descending else "asc"})

    async def entity(self, request: web.Request) -> web.Response:
        key = request.match_info["entityKey"]
        return web.json_response(self.ops.entity(request.match_info["entityName"], "" if key == EMPTY_KEY else key))

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get(API_PATH + "/instances", self.instances),
                web.get(API_PATH + "/entities/{entityName}/{entityKey}", self.entity)]

"""devhost.web.dashboard_api: devhost's read API for the dashboard (newest first, sorted, counted, one entity) and the
constants the dashboard imports from their one definition."""
from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import pytest
from api_server import (
    T0,
)

from devhost.model import PROGRESSING_STATUSES, TERMINAL_STATUSES, RuntimeStatus
from devhost.web.server import DASHBOARD_FILES, WEBHOOK


# -- devhost's read API for the dashboard --------------------------------------------------------------------------
@pytest.fixture
def listed(api):
    """Four instances created a second apart (l0 oldest), l1 Completed, l2 Failed; l0 and l3 Pending."""
    for n in range(4):
        api.start(f"l{n}", f'"in{n}"')
        api.call(lambda: api.ops.clock.advance(1))
    api.set_status("l1", RuntimeStatus.Completed, '"done"')
    api.set_status("l2", RuntimeStatus.Failed, '"boom"')
    api.call(lambda: api.store.commit_entity("@counter@k", "counter", True, "1", [], [], T0.timestamp()))
    return api


def listing(api, **params) -> dict:
    response = api.request("GET", "/devhost/api/instances", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_dashboard_listing_is_newest_first_with_a_total_and_counts_per_status(listed):
    body = listing(listed)

    assert [s["instanceId"] for s in body["instances"]] == ["l3", "l2", "l1", "l0"]
    assert body["total"] == 4 and body["counts"] == {"Pending": 2, "Completed": 1, "Failed": 1}
    assert (body["page"], body["top"], body["sort"], body["order"]) == (1, 25, "createdTime", "desc")
    first = body["instances"][0]  # the management API's status payload, input left out unless asked
    assert set(first) == {"name", "instanceId", "runtimeStatus", "input", "customStatus", "output", "createdTime",
                          "lastUpdatedTime"} and first["input"] is None
    assert listing(listed, showInput="true")["instances"][0]["input"] == "in3"


def test_the_dashboard_listing_sorts_pages_and_filters(listed):
    assert [s["instanceId"] for s in listing(listed, order="asc")["instances"]] == ["l0", "l1", "l2", "l3"]
    by_status = listing(listed, sort="runtimeStatus", order="ASC")["instances"]
    assert [s["runtimeStatus"] for s in by_status] == ["Completed", "Failed", "Pending", "Pending"]
    second = listing(listed, top=3, page=2)
    assert [s["instanceId"] for s in second["instances"]] == ["l0"] and second["total"] == 4
    failed_or_done = listing(listed, runtimeStatus="failed,Completed")
    assert [s["instanceId"] for s in failed_or_done["instances"]] == ["l2", "l1"]
    # the total follows the status filter; the counts leave it aside, so each status says what choosing it shows
    assert failed_or_done["total"] == 2 and failed_or_done["counts"]["Pending"] == 2
    assert listing(listed, instanceIdPrefix="l1")["total"] == 1
    assert listing(listed, name="ORCHESTRATOR")["total"] == 4 and listing(listed, name="other")["total"] == 0


def test_the_management_api_still_lists_oldest_first_with_continuation_tokens(listed):
    response = listed.request("GET", f"{WEBHOOK}/instances?top=3")

    # the entity is listed too (the Azure Storage provider's query), not on the dashboard
    assert [s["instanceId"] for s in response.json()] == ["@counter@k", "l0", "l1"]
    assert response.headers["x-ms-continuation-token"]


@pytest.mark.parametrize("query, message", [
    ("sort=color", "'color' is not a valid value for sort"), ("order=up", "'up' is not a valid value for order"),
    ("top=0", "'0' is not a valid value for top"), ("top=1001", "a whole number from 1 to 1000"),
    ("page=0", "'0' is not a valid value for page"), ("page=x", "'x' is not a valid value for page"),
    ("runtimeStatus=Done", "'Done' is not a valid runtimeStatus"),
    ("createdTimeFrom=soon", "is not a valid date and time")])
def test_the_dashboard_listing_refuses_bad_parameters_with_400(listed, query, message):
    response = listed.request("GET", f"/devhost/api/instances?{query}")

    assert response.status_code == 400 and message in response.json()["ExceptionMessage"], response.text


def test_the_dashboard_reads_one_entity_with_its_last_operation_time(api):
    assert api.request("GET", "/devhost/api/entities/Counter/k").json() == {
        "entityId": {"name": "counter", "key": "k"}, "exists": False, "lastOperationTime": None, "state": None}
    api.call(lambda: api.store.commit_entity("@counter@k", "counter", True, '{"n": 2}', [], [], T0.timestamp() + 1.25))
    api.call(lambda: api.store.commit_entity("@counter@", "counter", True, "0", [], [], T0.timestamp()))

    body = api.request("GET", "/devhost/api/entities/Counter/k").json()
    assert body == {"entityId": {"name": "counter", "key": "k"}, "exists": True,
                    "lastOperationTime": "2024-05-01T12:00:01.25Z", "state": {"n": 2}}
    assert api.request("GET", "/devhost/api/entities/counter/$").json()["state"] == 0  # "$": the empty key
    api.call(lambda: api.store.commit_entity("@counter@k", "counter", False, None, [], [], T0.timestamp() + 2))
    deleted = api.request("GET", "/devhost/api/entities/Counter/k").json()  # no state, and when it was deleted
    assert (deleted["exists"], deleted["state"], deleted["lastOperationTime"]) == \
        (False, None, "2024-05-01T12:00:02Z")


def test_an_answer_to_a_client_gone_at_that_moment_is_one_quiet_line_not_a_failure(caplog):
    """A 408 (or 413) written as the client goes away: the write fails, and that is the client's leaving, not
    devhost failing (seen once in the slow-body soak on a loaded machine: aiohttp logged a traceback)."""
    from unittest import mock

    from aiohttp.test_utils import make_mocked_request

    from devhost.web.server import _closing

    class GoneWriter(mock.MagicMock):
        async def write_headers(self, *args: Any) -> None:
            raise ConnectionResetError("Cannot write to closing transport")

    caplog.set_level(logging.INFO, logger="devhost")
    request = make_mocked_request("POST", "/runtime/webhooks/durabletask/orchestrators/O", writer=GoneWriter())

    response = asyncio.run(_closing(request, 408))

    assert response.status == 408
    assert any("went away before its 408 answer" in r.getMessage() for r in caplog.records)
    assert all(r.exc_info is None for r in caplog.records)
# -- the dashboard's status sets ---------------------------------------------------------------------------------
def test_the_dashboard_reads_the_api_path_and_status_sets_from_their_one_definition(api):
    response = api.request("GET", "/devhost/constants.js")
    text = response.text

    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/javascript")
    sets = {name: json.loads(value) for name, value in re.findall(r"export const (\w+) = (?:new Set\()?(\[.*?\])", text)}
    assert re.search(r'export const API = "(.*)";', text).group(1) == WEBHOOK
    assert set(sets["FINISHED"]) == {s.value for s in TERMINAL_STATUSES}
    assert set(sets["RUNNING"]) == {s.value for s in PROGRESSING_STATUSES}
    assert sorted(sets["STATUSES"]) == sorted(s.value for s in RuntimeStatus)


def test_no_dashboard_script_spells_out_a_runtime_status_list_or_the_api_path():
    scripts = {p.name: p.read_text(encoding="utf-8") for p in DASHBOARD_FILES.glob("*.js")}
    copies = {name for name, text in scripts.items() if re.search(r'\[\s*"(Running|Completed|Pending)"\s*,', text)}

    paths = {name for name, text in scripts.items() if WEBHOOK in text}

    assert copies == set() and paths == set() and 'from "./constants.js"' in scripts["common.js"]



"""Status, history, queries, purge and create-and-wait end to end (tests/apps/waiter), over the webhook and through
the SDK's DurableOrchestrationClient (docs/protocol.md §2-3)."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from devhost.testing import WEBHOOK, Client, DevhostProcess, app_host, start_local

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "tests" / "apps" / "waiter"
STATUS_KEYS = {"name", "instanceId", "runtimeStatus", "input", "customStatus", "output", "createdTime",
               "lastUpdatedTime"}


host = app_host(APP, time_travel=False)


def start(host: Client, name: str, body: Any = None, instance_id: str | None = None) -> str:
    path = f"{WEBHOOK}/orchestrators/{name}" + (f"/{instance_id}" if instance_id else "")
    response = host.http.post(host.url(path), json=body, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def instances(host: Client, token: str | None = None, **query: Any) -> Any:
    headers = {"x-ms-continuation-token": token} if token else {}
    return host.http.get(host.url(f"{WEBHOOK}/instances"), params=query, headers=headers, timeout=10)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- status and history --------------------------------------------------------------------------------------
def test_status_payload_of_a_completed_instance(host):
    instance_id = start(host, "Quick", {"n": 1})
    final = host.wait(instance_id)
    assert set(final) == STATUS_KEYS
    assert final["createdTime"].endswith("Z") and len(final["createdTime"]) == len("2024-05-01T12:00:00Z")
    without_input = host.status(instance_id, showInput=False)
    assert without_input["input"] is None and without_input["output"] == {"n": 1}


def test_history_events_shape(host):
    instance_id = start(host, "Waiter", {"who": "me"})
    host.wait(instance_id, statuses=("Running",))
    host.raise_event(instance_id, "go", {"ok": True})
    host.wait(instance_id)
    body = host.status(instance_id, showHistory=True, showHistoryOutput=True)
    events = body["historyEvents"]
    assert [e["EventType"] for e in events] == ["ExecutionStarted", "EventRaised", "ExecutionCompleted"]
    for event in events:  # EventType by name; no event ids, no IsPlayed
        assert not {"EventId", "IsPlayed"} & set(event)
    assert events[0]["FunctionName"] == "Waiter"
    assert not {"Name", "OrchestrationInstance", "ParentInstance", "Version", "Tags"} & set(events[0])
    assert events[0]["Input"] == '{"who": "me"}'  # inputs stay the JSON text the host stored
    assert (events[1]["Name"], events[1]["Input"]) == ("go", '{"ok": true}')
    assert events[2]["OrchestrationStatus"] == "Completed"
    assert events[2]["Result"] == {"input": {"who": "me"}, "event": {"ok": True}}
    # Without showHistoryOutput no Result; with showInput=false no Input anywhere.
    plain = host.status(instance_id, showHistory=True, showInput=False)["historyEvents"]
    assert all("Result" not in e and "Input" not in e for e in plain)


def test_history_folds_each_task_into_its_completion(host, tmp_path):
    instance_id = start(host, "Flaky", {"marker": str(tmp_path / "m")})
    host.wait(instance_id)
    events = host.status(instance_id, showHistory=True, showHistoryOutput=True)["historyEvents"]
    assert [e["EventType"] for e in events] == ["ExecutionStarted", "TaskCompleted", "TaskFailed",
                                                "ExecutionCompleted"]
    echo, failed = events[1], events[2]
    assert (echo["FunctionName"], echo["Result"], echo["Input"]) == ("Echo", "before", '"before"')
    assert "ScheduledTime" in echo and "TaskScheduledId" not in echo
    assert failed["FunctionName"] == "FailOnce"
    assert failed["Reason"] == "Activity function 'FailOnce' failed:  RuntimeError: the first attempt fails"
    assert events[3]["OrchestrationStatus"] == "Failed"


def test_sdk_get_status_with_history_output_and_input(host):
    instance_id = start(host, "Quick", {"n": 2})
    host.wait(instance_id)
    status = host.sdk(lambda c: c.get_status(instance_id, show_history=True, show_history_output=True,
                                             show_input=True))
    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert (status.name, status.instance_id, status.input_, status.output) == ("Quick", instance_id, {"n": 2},
                                                                              {"n": 2})
    # the SDK keeps the host's historyEvents as an extra attribute
    assert [e["EventType"] for e in status.historyEvents] == ["ExecutionStarted", "ExecutionCompleted"]
    assert status.historyEvents[1]["Result"] == {"n": 2}
    bare = host.sdk(lambda c: c.get_status(instance_id))
    assert not hasattr(bare, "historyEvents")
    missing = host.sdk(lambda c: c.get_status("no-such-instance"))
    assert not missing  # a falsy status: the SDK's way of saying "no such instance"


def test_failed_status_is_500_only_when_asked(host, tmp_path):
    instance_id = start(host, "Flaky", {"marker": str(tmp_path / "m")})
    host.wait(instance_id)
    assert host.status_response(instance_id).status_code == 200
    assert host.status_response(instance_id, returnInternalServerErrorOnFailure=True).status_code == 500


# -- queries -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def crowd() -> Iterator[tuple[DevhostProcess, dict[str, list[str]], datetime]]:
    """A host of its own with 130 completed, 3 running and 1 failed instance, created in two waves."""
    with start_local(APP) as own:
        with ThreadPoolExecutor(8) as pool:
            first = list(pool.map(lambda n: start(own, "Quick", {"n": n}, f"q-{n:03d}"), range(70)))
            for instance_id in first:
                own.wait(instance_id)
            between = datetime.now(timezone.utc)
            second = list(pool.map(lambda n: start(own, "Quick", {"n": n}, f"q-{n:03d}"), range(70, 130)))
        for instance_id in second:
            own.wait(instance_id)
        waiting = [start(own, "Waiter", {"w": n}, f"w-{n}") for n in range(3)]
        for instance_id in waiting:
            own.wait(instance_id, statuses=("Running",))
        failed = start(own, "Flaky", {"marker": str(Path(own.store).with_suffix(".marker"))}, "f-0")
        own.wait(failed)
        yield own, {"first": first, "second": second, "waiting": waiting, "failed": [failed]}, between


def test_query_pages_of_100_by_continuation_token(crowd):
    own, groups, _ = crowd
    first_page = instances(own)
    assert first_page.status_code == 200 and len(first_page.json()) == 100
    token = first_page.headers["x-ms-continuation-token"]
    second_page = instances(own, token)
    # the extension adds the header to every page: on the last one it is empty
    assert len(second_page.json()) == 34 and second_page.headers["x-ms-continuation-token"] == ""
    listed = [i["instanceId"] for i in first_page.json() + second_page.json()]
    assert sorted(listed) == sorted(sum(groups.values(), []))
    assert all(set(item) == STATUS_KEYS for item in first_page.json())


def test_query_top_sets_the_page_size(crowd):
    own, groups, _ = crowd
    seen, token, pages = [], None, 0
    while True:
        page = instances(own, token, top=50)
        seen += [i["instanceId"] for i in page.json()]
        pages += 1
        token = page.headers.get("x-ms-continuation-token")
        if not token:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 134


def test_query_filters(crowd):
    own, groups, between = crowd
    running = instances(own, runtimeStatus="Running").json()
    assert sorted(i["instanceId"] for i in running) == groups["waiting"]
    both = instances(own, runtimeStatus="Running,Failed").json()
    assert sorted(i["instanceId"] for i in both) == ["f-0"] + groups["waiting"]
    assert len(instances(own, runtimeStatus="Completed", top=1000).json()) == 130
    # Enum.TryParse is case-sensitive: the extension leaves "completed" out, and no status left is no filter
    # (devhost matched it ignoring case before)
    assert len(instances(own, runtimeStatus="completed", top=1000).json()) == 134
    prefixed = instances(own, instanceIdPrefix="q-12").json()
    assert sorted(i["instanceId"] for i in prefixed) == [f"q-{n}" for n in range(120, 130)]
    later = instances(own, createdTimeFrom=iso(between), top=1000).json()
    assert {i["instanceId"] for i in later} == set(groups["second"] + groups["waiting"] + groups["failed"])
    earlier = instances(own, createdTimeTo=iso(between), top=1000).json()
    assert {i["instanceId"] for i in earlier} == set(groups["first"])
    assert instances(own, createdTimeFrom="2000-01-01T00:00:00Z", createdTimeTo="2001-01-01T00:00:00Z").json() == []
    combined = instances(own, createdTimeFrom=iso(between), runtimeStatus="Completed", instanceIdPrefix="q-07",
                         top=1000).json()
    assert sorted(i["instanceId"] for i in combined) == [f"q-{n:03d}" for n in range(70, 80)]


def test_query_show_input(crowd):
    own, _, _ = crowd
    assert instances(own, instanceIdPrefix="w-0").json()[0]["input"] == {"w": 0}  # shown by default
    assert instances(own, instanceIdPrefix="w-0", showInput="false").json()[0]["input"] is None


def test_sdk_queries_read_the_first_page(crowd):
    own, groups, between = crowd
    everything = own.sdk(lambda c: c.get_status_all())
    assert len(everything) == 100  # the SDK does not follow the continuation token
    running = own.sdk(lambda c: c.get_status_by(runtime_status=[OrchestrationRuntimeStatus.Running]))
    assert sorted(s.instance_id for s in running) == groups["waiting"]
    recent = own.sdk(lambda c: c.get_status_by(created_time_from=between + timedelta(microseconds=1),
                                               runtime_status=[OrchestrationRuntimeStatus.Failed]))
    assert [s.instance_id for s in recent] == groups["failed"]


def test_a_bad_continuation_token_is_400(crowd):
    own, _, _ = crowd
    response = own.http.get(own.url(f"{WEBHOOK}/instances"), headers={"x-ms-continuation-token": "not-a-token"},
                            timeout=10)
    assert response.status_code == 400
    assert response.json()["Message"] == "One or more of the arguments submitted is incorrect"


def test_query_arguments_the_extension_cannot_parse_are_left_out(crowd):
    """HttpApiHandler's TryParse calls leave out what they cannot read: the first page, unfiltered (these were
    400s on devhost before; the extension answers 200)."""
    own, _, _ = crowd
    unfiltered = own.http.get(own.url(f"{WEBHOOK}/instances"), timeout=10).json()
    for query in ({"runtimeStatus": "Sleeping"}, {"createdTimeFrom": "yesterday"}, {"top": "many"}):
        response = own.http.get(own.url(f"{WEBHOOK}/instances"), params=query, timeout=10)
        assert (response.status_code, response.json()) == (200, unfiltered), query


# -- purge -----------------------------------------------------------------------------------------------------
def test_purge_one_instance(host):
    instance_id = start(host, "Quick", {"n": 3})
    host.wait(instance_id)
    response = host.http.delete(host.url(f"{WEBHOOK}/instances/{instance_id}"), timeout=10)
    assert (response.status_code, response.json()) == (200, {"instancesDeleted": 1})
    assert host.status_response(instance_id).status_code == 404
    again = host.http.delete(host.url(f"{WEBHOOK}/instances/{instance_id}"), timeout=10)
    assert again.status_code == 404 and again.content == b""
    assert host.sdk(lambda c: c.purge_instance_history(instance_id)).instances_deleted == 0


def test_purge_one_through_the_sdk_and_while_it_runs(host):
    done = start(host, "Quick", {"n": 4})
    host.wait(done)
    assert host.sdk(lambda c: c.purge_instance_history(done)).instances_deleted == 1
    waiting = start(host, "Waiter", {"n": 5})
    host.wait(waiting, statuses=("Running",))
    # the extension 3.x purges a running instance too (its storage provider deletes by id, whatever the status)
    purged = host.http.delete(host.url(f"{WEBHOOK}/instances/{waiting}"), timeout=10)
    assert (purged.status_code, purged.json()) == (200, {"instancesDeleted": 1})
    assert host.status_response(waiting).status_code == 404
    assert host.raise_event(waiting, "go", "late").status_code == 404  # and nothing of it runs on


@pytest.mark.usefixtures("local_only")
def test_purge_by_filter(devhost_factory):
    own = devhost_factory(APP).start()
    old = [start(own, "Quick", {"n": n}) for n in range(3)]
    for instance_id in old:
        own.wait(instance_id)
    between = datetime.now(timezone.utc)
    new = [start(own, "Quick", {"n": n}) for n in range(2)]
    waiting = start(own, "Waiter", {"n": 0})
    for instance_id in new:
        own.wait(instance_id)
    own.wait(waiting, statuses=("Running",))
    purge = own.url(f"{WEBHOOK}/instances")
    missing = own.http.delete(purge, params={"runtimeStatus": "Completed"}, timeout=10)
    assert missing.status_code == 400  # createdTimeFrom is required; the extension says so in a JSON string
    assert missing.json() == "Please provide value for 'createdTimeFrom' parameter."
    response = own.http.delete(purge, params={"createdTimeFrom": "2000-01-01T00:00:00Z",
                                              "createdTimeTo": iso(between)}, timeout=10)
    assert (response.status_code, response.json()) == (200, {"instancesDeleted": 3})
    assert all(own.status_response(i).status_code == 404 for i in old)
    nothing = own.http.delete(purge, params={"createdTimeFrom": "2000-01-01T00:00:00Z",
                                             "createdTimeTo": iso(between)}, timeout=10)
    assert nothing.status_code == 404 and nothing.content == b""
    # the SDK: runtime_status filters, and only its finished statuses count (the Azure Storage provider's
    # PurgeInstanceHistoryAsync); with none given every status is purged, a running instance too (issue 21 item 6)
    deleted = own.sdk(lambda c: c.purge_instance_history_by(
        created_time_from=between, runtime_status=[OrchestrationRuntimeStatus.Completed,
                                                   OrchestrationRuntimeStatus.Running]))
    assert deleted.instances_deleted == 2
    assert own.status(waiting)["runtimeStatus"] == "Running"
    again = own.sdk(lambda c: c.purge_instance_history_by(created_time_from=between))
    assert again.instances_deleted == 1 and own.status(waiting) is None


# -- create and wait -----------------------------------------------------------------------------------------------
def test_create_and_wait_returns_the_output_when_done_in_time(host):
    response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Quick"), params={"timeout": 5,
                                                                                  "pollingInterval": 0.1},
                              json={"fast": True}, timeout=10)
    assert response.status_code == 200
    assert response.json() == {"fast": True}


def test_create_and_wait_answers_202_when_not_done_in_time(host):
    began = time.monotonic()
    response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Waiter"), params={"timeout": 0.5,
                                                                                   "pollingInterval": 0.1},
                              json={"slow": True}, timeout=10)
    assert time.monotonic() - began >= 0.5
    assert response.status_code == 202
    body = response.json()
    assert response.headers["Location"] == body["statusQueryGetUri"]
    assert host.status(body["id"])["runtimeStatus"] == "Running"


def test_create_and_wait_of_a_failure_answers_with_the_status(host, tmp_path):
    response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Flaky"), params={"timeout": 5,
                                                                                  "pollingInterval": 0.1},
                              json={"marker": str(tmp_path / "m")}, timeout=10)
    assert response.status_code == 200
    assert response.json()["runtimeStatus"] == "Failed"
    assert set(response.json()) == STATUS_KEYS


def test_create_and_wait_needs_both_parameters(host):
    only_timeout = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Quick"), params={"timeout": 5},
                                  json={"n": 1}, timeout=10)
    assert only_timeout.status_code == 202  # no pollingInterval: start and answer at once
    host.wait(only_timeout.json()["id"])
    too_slow = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Quick"), params={"timeout": 1,
                                                                                  "pollingInterval": 2},
                              json={"n": 1}, timeout=10)
    assert too_slow.status_code == 400
    assert "should be bigger than" in too_slow.json()["ExceptionMessage"]


def test_sdk_wait_for_completion_or_create_check_status_response(host, tmp_path):
    done = host.http.post(host.url("/api/startandwait/Quick"), json={"n": 9}, timeout=10)
    assert done.status_code == 200 and done.json() == {"n": 9}
    pending = host.http.post(host.url("/api/startandwait/Waiter"), params={"timeout": 300, "interval": 100},
                             json={"n": 9}, timeout=10)
    assert pending.status_code == 202
    assert pending.headers["Location"] == pending.json()["statusQueryGetUri"]
    assert pending.json()["statusQueryGetUri"].startswith(host.base_url + WEBHOOK + "/instances/")
    failed = host.http.post(host.url("/api/startandwait/Flaky"), json={"marker": str(tmp_path / "m")}, timeout=10)
    assert failed.status_code == 500  # the SDK answers a failure with 500 and the status
    assert failed.json()["runtimeStatus"] == "Failed"


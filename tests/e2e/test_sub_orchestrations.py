"""Sub-orchestrations end to end against devhost running tests/apps/sub_orchestrations: default instance ids
(<parent execution id>:<event id>) and explicit ones, the parent's id visible in the child, results returned
to the parent, and failures propagating to it (caught and uncaught)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from devhost.testing import app_host, poll

APP = Path(__file__).resolve().parents[1] / "apps" / "sub_orchestrations"
CHILD_FAILURE = ("Orchestrator function 'Child' failed: Activity function 'Greet' failed:  ValueError: "
                 "a city name is required")
host = app_host(APP)


def test_children_with_default_ids_report_their_parent(host):
    parent_id = host.start_instance("Parent", ["Tokyo", "Seattle"])

    final = host.wait(parent_id)

    assert final["runtimeStatus"] == "Completed", final
    tokyo, seattle = final["output"]
    assert [tokyo["greeting"], seattle["greeting"]] == ["Hello Tokyo!", "Hello Seattle!"]
    assert tokyo["parentInstanceId"] == seattle["parentInstanceId"] == parent_id
    # Default child ids: the parent's execution id (32 hex digits) and the event id of each call.
    assert re.fullmatch(r"[0-9a-f]{32}:0", tokyo["instanceId"])
    assert seattle["instanceId"] == tokyo["instanceId"][:-1] + "1"
    child = host.status(tokyo["instanceId"])
    assert (child["name"], child["runtimeStatus"]) == ("Child", "Completed")
    # The extension stores the action's input (JSON text) serialized again, as for the SDK client's starts.
    assert child["input"] == '"Tokyo"'
    assert child["output"] == tokyo
    events = host.status(parent_id, showHistory=True, showHistoryOutput=True)["historyEvents"]
    done = [e for e in events if e["EventType"] == "SubOrchestrationInstanceCompleted"]
    assert [e["FunctionName"] for e in done] == ["Child", "Child"]
    assert sorted(e["Result"]["greeting"] for e in done) == ["Hello Seattle!", "Hello Tokyo!"]


def test_children_with_explicit_ids_through_the_sdk_client(host):
    parent_id = host.sdk(lambda client: client.start_new("ParentWithIds", "family-1", ["Oslo", "Lima"]))
    assert parent_id == "family-1"

    host.wait(parent_id)
    status = host.sdk(lambda client: client.get_status(parent_id))

    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert [c["instanceId"] for c in status.output] == ["family-1-oslo", "family-1-lima"]
    assert {c["parentInstanceId"] for c in status.output} == {"family-1"}
    child = host.sdk(lambda client: client.get_status("family-1-lima"))
    assert child.runtime_status == OrchestrationRuntimeStatus.Completed
    assert child.output["greeting"] == "Hello Lima!"
    assert host.event_kinds(parent_id) == ["ExecutionStarted", "SubOrchestrationInstanceCompleted",
                                      "SubOrchestrationInstanceCompleted", "ExecutionCompleted"]


def test_an_orchestration_started_directly_has_no_parent(host):
    instance_id = host.start_instance("Child", "Quito")

    output = host.wait(instance_id)["output"]

    assert output == {"greeting": "Hello Quito!", "instanceId": instance_id, "parentInstanceId": None}


def test_uncaught_child_failure_fails_the_parent(host):
    parent_id = host.start_instance("Parent", ["Tokyo", ""])

    final = host.wait(parent_id)

    assert final["runtimeStatus"] == "Failed"
    assert final["output"].startswith("Orchestrator function 'Parent' failed: " + CHILD_FAILURE)
    events = host.status(parent_id, showHistory=True)["historyEvents"]
    failed = [e for e in events if e["EventType"] == "SubOrchestrationInstanceFailed"]
    assert len(failed) == 1
    assert failed[0]["Reason"].startswith(CHILD_FAILURE)
    assert failed[0]["FunctionName"] == "Child"


def test_caught_child_failure_becomes_the_parents_result(host):
    parent_id = host.start_instance("SafeParent", "")

    final = host.wait(parent_id)

    assert final["runtimeStatus"] == "Completed"
    assert final["output"]["failed"].startswith(CHILD_FAILURE)


def test_failed_child_with_an_explicit_id_is_failed_itself(host):
    parent_id = host.sdk(lambda client: client.start_new("ParentWithIds", "family-2", ["Rome", ""]))

    final = host.wait(parent_id)

    assert final["runtimeStatus"] == "Failed"
    assert host.status("family-2-rome")["runtimeStatus"] == "Completed"
    failed_child = host.status("family-2-")
    assert failed_child["runtimeStatus"] == "Failed"
    assert failed_child["output"].startswith(CHILD_FAILURE)
    assert final["output"].startswith("Orchestrator function 'ParentWithIds' failed: " + CHILD_FAILURE)


def test_a_successful_child_under_a_guarded_parent(host):
    parent_id = host.start_instance("SafeParent", "Accra")

    output = host.wait(parent_id)["output"]

    assert output["greeting"] == "Hello Accra!"
    assert output["parentInstanceId"] == parent_id


@pytest.mark.usefixtures("local_only")
def test_host_killed_during_sub_orchestrations_finishes_each_child_once(devhost_factory):
    host = devhost_factory(APP).start()
    cities = [f"City{n}" for n in range(20)]
    parent_id = host.start_instance("ParentWithIds", cities)
    poll(lambda: host.status_response(f"{parent_id}-city0").status_code != 404, timeout=10, what="the first child")

    host.kill()
    host.start()
    final = host.wait(parent_id, timeout=30)

    assert final["runtimeStatus"] == "Completed", final
    assert [c["greeting"] for c in final["output"]] == [f"Hello {city}!" for city in cities]
    assert host.event_kinds(parent_id).count("SubOrchestrationInstanceCompleted") == 20
    for city in cities:
        child_kinds = host.event_kinds(f"{parent_id}-{city.lower()}")
        assert child_kinds == ["ExecutionStarted", "TaskCompleted", "ExecutionCompleted"], (city, child_kinds)

"""continue_as_new end to end against devhost running tests/apps/continue_as_new: a counter that loops fifty
times through new executions (ContinuedAsNew, then Running again), ends Completed with a history that did not
grow, and a pager that continues as new with a string input."""
from __future__ import annotations

import json
from pathlib import Path

from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from devhost.testing import TERMINAL, app_host, poll

APP = Path(__file__).resolve().parents[1] / "apps" / "continue_as_new"
host = app_host(APP)


def test_counter_loops_fifty_times_without_history_growth(host):
    instance_id = host.start_instance("Counter", {"count": 0, "limit": 50})

    # Watch the status while it loops: between two executions it shows ContinuedAsNew, then Running again.
    seen = []

    def finished():
        body = host.status(instance_id)
        seen.append((body["runtimeStatus"], (body["customStatus"] or {}).get("count")))
        return body if body["runtimeStatus"] in TERMINAL else None

    final = poll(finished, timeout=30, interval=0, what="the counter to finish")

    assert final["runtimeStatus"] == "Completed", final
    assert final["output"] == 50
    assert final["customStatus"] == {"count": 50}
    statuses = [status for status, _ in seen]
    assert "ContinuedAsNew" in statuses
    assert "Running" in statuses[statuses.index("ContinuedAsNew"):]
    counts = [count for _, count in seen if count is not None]
    assert counts == sorted(counts)  # the custom status only moves forward, across executions
    # Only the last execution's history is kept: it is as small as the first one's.
    events = host.status(instance_id, showHistory=True, showHistoryOutput=True)["historyEvents"]
    assert [e["EventType"] for e in events] == ["ExecutionStarted", "TaskCompleted", "ExecutionCompleted"]
    assert events[1]["Result"] == 50
    assert json.loads(final["input"]) == {"count": 49, "limit": 50}  # the last execution's input


def test_counter_through_the_sdk_client(host):
    instance_id = host.sdk(lambda client: client.start_new("Counter", None, {"count": 10, "limit": 15}))

    host.wait(instance_id, timeout=15)
    status = host.sdk(lambda client: client.get_status(instance_id, show_history=True))

    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert status.output == 15
    assert status.custom_status == {"count": 15}
    assert len(status.historyEvents) == 3


def test_continue_as_new_with_a_string_input(host):
    instance_id = host.start_instance("Pager", "page-0")

    final = host.wait(instance_id)

    assert final["runtimeStatus"] == "Completed", final
    assert final["output"] == "page-3"
    events = host.status(instance_id, showHistory=True)["historyEvents"]
    assert [e["EventType"] for e in events] == ["ExecutionStarted", "TaskCompleted", "ExecutionCompleted"]
    assert events[1]["Input"] == '"page-3"'  # history inputs show as the JSON text the activity got


def test_instance_id_stays_while_executions_change(host):
    instance_id = host.sdk(lambda client: client.start_new("Counter", "my-counter", {"count": 0, "limit": 3}))

    assert instance_id == "my-counter"
    final = host.wait(instance_id)
    assert (final["instanceId"], final["output"]) == ("my-counter", 3)
    # A finished counter can be started again under the same id (a new instance replaces it).
    again = host.sdk(lambda client: client.start_new("Counter", "my-counter", {"count": 7, "limit": 8}))
    assert host.wait(again)["output"] == 8

"""Fan-out/fan-in end to end: task_all over many parallel activities and task_any races, started over HTTP and
through the SDK's DurableOrchestrationClient, against devhost running tests/apps/fan_out_fan_in."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from devhost.model import EventType
from devhost.runtime.store.sqlite import SqliteStore
from devhost.testing import app_host, poll

APP = Path(__file__).resolve().parents[1] / "apps" / "fan_out_fan_in"
host = app_host(APP)


def sum_of_squares(n):
    return sum(i * i for i in range(n))


def test_one_thousand_parallel_activities_fan_in_to_the_right_sum(host):
    started = time.monotonic()
    instance_id = host.start_instance("FanOutFanIn", {"count": 1000})

    final = host.wait(instance_id, timeout=60)

    assert final["runtimeStatus"] == "Completed", final
    assert final["output"] == {"count": 1000, "sum": sum_of_squares(1000)} == {"count": 1000, "sum": 332833500}
    assert time.monotonic() - started < 30
    events = host.status(instance_id, showHistory=True, showHistoryOutput=True)["historyEvents"]
    completed = [e for e in events if e["EventType"] == "TaskCompleted"]
    assert len(completed) == 1000
    assert {e["FunctionName"] for e in completed} == {"Square"}
    assert sorted(e["Result"] for e in completed) == sorted(i * i for i in range(1000))
    assert [e["EventType"] for e in events][-1] == "ExecutionCompleted"


@pytest.mark.usefixtures("local_only")
def test_two_thousand_activities_fan_in_in_a_bounded_number_of_episodes(devhost_factory):
    """The orchestrator is not replayed while the task_all it waits on cannot have completed: a handful of
    episodes (OrchestratorStarted in the stored history), not one per batch of completions."""
    host = devhost_factory(APP).start()
    instance_id = host.start_instance("FanOutFanIn", {"count": 2000})

    final = host.wait(instance_id, timeout=120)
    host.stop()

    assert final["output"] == {"count": 2000, "sum": sum_of_squares(2000)}
    store = SqliteStore(host.store)
    try:
        kinds = [e["EventType"] for e in store.get_history(instance_id)]
    finally:
        store.close()
    assert kinds.count(EventType.TaskCompleted) == 2000
    assert kinds.count(EventType.OrchestratorStarted) <= 5


def test_fan_out_through_the_sdk_client(host):
    instance_id = host.sdk(lambda client: client.start_new("FanOutFanIn", None, {"numbers": [3, 4, 12]}))

    host.wait(instance_id)
    status = host.sdk(lambda client: client.get_status(instance_id))

    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert status.output == {"count": 3, "sum": 9 + 16 + 144}
    # The SDK sends its input JSON-encoded twice (docs/protocol.md §2.1): the status shows the JSON text as a string.
    assert status.input_ == '{"numbers": [3, 4, 12]}'


def test_one_failed_activity_fails_the_fan_in(host):
    instance_id = host.start_instance("FanOutFanIn", {"numbers": [1, 2, "three", 4]})

    final = host.wait(instance_id)

    assert final["runtimeStatus"] == "Failed"
    assert final["output"].startswith(
        "Orchestrator function 'FanOutFanIn' failed: Activity function 'Square' failed:  TypeError: "
        "not a number: 'three'")


def test_task_any_returns_the_first_answer(host):
    instance_id = host.start_instance("FirstResponse", {"slow": 0.5, "fast": 0})

    final = host.wait(instance_id)

    assert final["runtimeStatus"] == "Completed", final
    assert final["output"] == "answer from fast"
    # The loser still ran: its result is recorded, but it does not change the winner.
    events = host.status(instance_id, showHistory=True, showHistoryOutput=True)["historyEvents"]
    results = {e["Result"] for e in events if e["EventType"] == "TaskCompleted"}
    assert "answer from fast" in results


def test_task_any_through_the_sdk_client(host):
    instance_id = host.sdk(lambda client: client.start_new("FirstResponse", None, {"eu": 0, "us": 0.5}))

    host.wait(instance_id)
    status = host.sdk(lambda client: client.get_status(instance_id, show_history=True))

    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert status.output == "answer from eu"


@pytest.mark.usefixtures("local_only")
def test_host_killed_during_the_fan_out_finishes_every_activity_once(devhost_factory):
    host = devhost_factory(APP).start()
    instance_id = host.start_instance("FanOutFanIn", {"count": 500})
    poll(lambda: host.status(instance_id)["runtimeStatus"] == "Running", timeout=10, what="the fan-out")

    host.kill()
    host.start()
    final = host.wait(instance_id, timeout=60)

    assert final["runtimeStatus"] == "Completed", final
    assert final["output"] == {"count": 500, "sum": sum_of_squares(500)}
    kinds = [e["EventType"] for e in host.status(instance_id, showHistory=True)["historyEvents"]]
    assert kinds.count("TaskCompleted") == 500
    assert kinds.count("ExecutionCompleted") == 1

"""Retries end to end against devhost running tests/apps/retries: call_activity_with_retry and
call_sub_orchestrator_with_retry over an activity that fails its first attempts, the retry timers in history
(docs/protocol.md §4.3), exhausted retries failing the orchestration, and a retry interval honoured in durable time."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from azure.durable_functions.models.OrchestrationRuntimeStatus import (
    OrchestrationRuntimeStatus,
)

from devhost.testing import Client, app_host, poll, timestamp

APP = Path(__file__).resolve().parents[1] / "apps" / "retries"
HOUR = 3600
host = app_host(APP)


def test_activity_failing_twice_succeeds_on_the_third_attempt(host, tmp_path):
    instance_id = host.start_instance("RetryActivity", {"dir": str(tmp_path), "failures": 2, "attempts": 3})

    final = host.wait(instance_id)

    assert final["runtimeStatus"] == "Completed", final
    assert final["output"] == {"attempts": 3}
    assert host.event_kinds(instance_id) == ["ExecutionStarted",
                                        "TaskFailed", "TimerCreated", "TimerFired",
                                        "TaskFailed", "TimerCreated", "TimerFired",
                                        "TaskCompleted", "ExecutionCompleted"]
    failures = [e for e in host.history(instance_id) if e["EventType"] == "TaskFailed"]
    assert [e["Reason"] for e in failures] == [f"Activity function 'Flaky' failed:  ValueError: attempt {n} failed"
                                              for n in (1, 2)]
    assert (tmp_path / instance_id).read_text() == "3"


def test_exhausted_retries_fail_the_orchestration_after_one_extra_timer(host, tmp_path):
    instance_id = host.start_instance("RetryActivity", {"dir": str(tmp_path), "failures": 5, "attempts": 3})

    final = host.wait(instance_id)

    assert final["runtimeStatus"] == "Failed"
    assert final["output"].startswith("Orchestrator function 'RetryActivity' failed: Activity function 'Flaky' "
                                      "failed:  ValueError: attempt 3 failed")
    # docs/protocol.md §4.3: three attempts, each followed by a timer (ids 0 task, 1 timer, ..., 5 timer).
    assert host.event_kinds(instance_id) == ["ExecutionStarted"] + ["TaskFailed", "TimerCreated", "TimerFired"] * 3 + [
        "ExecutionCompleted"]
    assert (tmp_path / instance_id).read_text() == "3"


def test_retry_waits_for_its_interval_in_durable_time(host, tmp_path):
    instance_id = host.start_instance("RetryActivity", {"dir": str(tmp_path), "failures": 1, "attempts": 2,
                                                        "interval_ms": HOUR * 1000})

    def retry_timer():
        return next((e for e in host.history(instance_id) if e["EventType"] == "TimerCreated"), None)

    timer = poll(retry_timer, timeout=10, what="the retry timer")
    failed = next(e for e in host.history(instance_id) if e["EventType"] == "TaskFailed")
    assert abs((timestamp(timer["FireAt"]) - timestamp(failed["Timestamp"])).total_seconds() - HOUR) < 2
    assert host.status(instance_id)["runtimeStatus"] == "Running"
    assert (tmp_path / instance_id).read_text() == "1"  # no second attempt before the interval

    host.advance(HOUR)
    final = host.wait(instance_id)

    assert final["output"] == {"attempts": 2}


def test_retry_through_the_sdk_client(host, tmp_path):
    job = {"dir": str(tmp_path), "failures": 1, "attempts": 2, "interval_ms": 50}
    instance_id = host.sdk(lambda client: client.start_new("RetryActivity", None, job))

    host.wait(instance_id)
    status = host.sdk(lambda client: client.get_status(instance_id, show_history=True))

    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert status.output == {"attempts": 2}
    assert [e["EventType"] for e in status.historyEvents].count("TaskFailed") == 1


def test_sub_orchestration_retried_until_it_succeeds(host, tmp_path):
    instance_id = host.start_instance("RetrySubOrchestrator", {"dir": str(tmp_path), "failures": 2, "attempts": 3})

    final = host.wait(instance_id)

    assert final["runtimeStatus"] == "Completed", final
    assert final["output"]["attempts"] == 3
    assert host.event_kinds(instance_id) == ["ExecutionStarted",
                                        "SubOrchestrationInstanceFailed", "TimerCreated", "TimerFired",
                                        "SubOrchestrationInstanceFailed", "TimerCreated", "TimerFired",
                                        "SubOrchestrationInstanceCompleted", "ExecutionCompleted"]
    # Each attempt is a new child with the default id <parent execution id>:<event id>: 0, 2, then 4.
    child = final["output"]["child"]
    execution, _, event_id = child.rpartition(":")
    assert event_id == "4"
    for failed_child in (f"{execution}:0", f"{execution}:2"):
        body = host.status(failed_child)
        assert body["runtimeStatus"] == "Failed"
        assert body["name"] == "FlakyChild"


def test_sub_orchestration_retries_exhausted_fail_the_parent(host, tmp_path):
    job = {"dir": str(tmp_path), "failures": 5, "attempts": 2}
    instance_id = host.sdk(lambda client: client.start_new("RetrySubOrchestrator", None, job))

    final = host.wait(instance_id)

    assert final["runtimeStatus"] == "Failed"
    assert "Orchestrator function 'FlakyChild' failed: Activity function 'Flaky' failed:  ValueError: attempt 2 " \
           "failed" in final["output"]
    assert final["output"].startswith("Orchestrator function 'RetrySubOrchestrator' failed: ")
    assert host.event_kinds(instance_id).count("SubOrchestrationInstanceFailed") == 2


# -- rewind after retries (the extension's rewind keeps the retry timers and fails as non-deterministic:
# Azure/azure-functions-durable-extension#617; devhost resumes the retry's last attempt, docs/protocol.md §2.2) ----
def failed_then_rewound(host: Client, orchestrator: str, job: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Start the orchestrator, let its retries give up, rewind it; its id and final status."""
    instance_id = host.start_instance(orchestrator, dict(job, interval_ms=50))
    assert host.wait(instance_id)["runtimeStatus"] == "Failed"
    assert host.post_op(instance_id, "rewind", reason="fixed").status_code == 202
    final = host.wait(instance_id)
    assert final["runtimeStatus"] == "Completed", final
    return instance_id, final


def test_rewind_after_exhausted_retries_runs_the_last_attempt_again(host, tmp_path):
    instance_id, final = failed_then_rewound(host, "RetryActivity",
                                             {"dir": str(tmp_path), "failures": 3, "attempts": 3})

    assert final["output"] == {"attempts": 4}  # Flaky ran once more: its counter went from 3 to 4
    assert (tmp_path / instance_id).read_text() == "4"
    # the first two attempts and their retry timers stay; the last attempt's failure and the timer after it go,
    # and the rewind's reason wakes the instance
    assert host.event_kinds(instance_id) == ["ExecutionStarted",
                                             "TaskFailed", "TimerCreated", "TimerFired",
                                             "TaskFailed", "TimerCreated", "TimerFired",
                                             "GenericEvent", "TaskCompleted", "ExecutionCompleted"]


def test_rewind_after_exhausted_sub_orchestration_retries_rewinds_the_last_child(host, tmp_path):
    instance_id, final = failed_then_rewound(host, "RetrySubOrchestrator",
                                             {"dir": str(tmp_path), "failures": 2, "attempts": 2})

    assert final["output"]["attempts"] == 3
    execution, _, event_id = final["output"]["child"].rpartition(":")
    assert event_id == "2"  # the last child ran its failed activity again and completed
    assert host.status(f"{execution}:0")["runtimeStatus"] == "Failed"  # the first one stays as it was
    assert host.event_kinds(instance_id) == ["ExecutionStarted",
                                             "SubOrchestrationInstanceFailed", "TimerCreated", "TimerFired",
                                             "GenericEvent", "SubOrchestrationInstanceCompleted", "ExecutionCompleted"]

"""Non-determinism end to end against devhost running tests/apps/non_determinism: the Planned orchestrator reads
its plan from a file; the test edits the file while an instance waits, then wakes it. When the replayed actions
disagree with the recorded history (another activity name, order or fewer calls), the instance fails with a
message naming the mismatch and the event id; added calls after the recorded ones are new work, not an error."""
from __future__ import annotations

import json
from pathlib import Path

from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from devhost.testing import app_host, poll

APP = Path(__file__).resolve().parents[1] / "apps" / "non_determinism"
PREFIX = "Orchestrator function 'Planned' failed: Non-Deterministic workflow detected: "
host = app_host(APP)


def start_waiting(host, tmp_path, plan, sdk=False):
    """Start Planned with `plan` and wait until its activities ran and it waits for "Finish"."""
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan))
    job = {"plan": str(plan_file)}
    if sdk:
        instance_id = host.sdk(lambda client: client.start_new("Planned", None, job))
    else:
        instance_id = host.start_instance("Planned", job)

    def waiting():
        events = host.status(instance_id, showHistory=True)["historyEvents"]
        return [e["EventType"] for e in events].count("TaskCompleted") == len(plan)

    poll(waiting, timeout=10, what=f"{plan} to have run")
    assert host.status(instance_id)["runtimeStatus"] == "Running"
    return instance_id, plan_file


def change_plan_and_finish(host, instance_id, plan_file, plan):
    plan_file.write_text(json.dumps(plan))
    assert host.raise_event(instance_id, "Finish").status_code == 202
    return host.wait(instance_id)


def test_unchanged_plan_completes(host, tmp_path):
    instance_id, plan_file = start_waiting(host, tmp_path, ["A", "B"])

    final = change_plan_and_finish(host, instance_id, plan_file, ["A", "B"])

    assert final["runtimeStatus"] == "Completed"
    assert final["output"] == ["A0", "B1"]


def test_another_activity_name_fails_with_the_mismatch_and_event_id(host, tmp_path):
    instance_id, plan_file = start_waiting(host, tmp_path, ["A"])

    final = change_plan_and_finish(host, instance_id, plan_file, ["B"])

    assert final["runtimeStatus"] == "Failed"
    message = final["output"]
    assert message.startswith(PREFIX)
    # DurableTask.Core's TaskOrchestrationContext.HandleTaskScheduledEvent, word for word (double space included)
    assert message == (PREFIX + "A previous execution of this orchestration scheduled an activity task with sequence "
                       "number 0 named 'A', but the current orchestration replay instead scheduled an activity task "
                       "named 'B' with this sequence number.  Was a change made to the orchestrator code after this "
                       "instance had already started running?")
    # Nothing ran on wrongly: B was never scheduled.
    events = host.status(instance_id, showHistory=True)["historyEvents"]
    assert [e.get("FunctionName") for e in events if e["EventType"] == "TaskCompleted"] == ["A"]
    assert [e["EventType"] for e in events][-1] == "ExecutionCompleted"


def test_another_order_fails_at_the_first_differing_event_id(host, tmp_path):
    instance_id, plan_file = start_waiting(host, tmp_path, ["A", "B"])

    final = change_plan_and_finish(host, instance_id, plan_file, ["B", "A"])

    assert final["runtimeStatus"] == "Failed"
    assert final["output"].startswith(PREFIX)
    assert "sequence number 0 named 'A'" in final["output"]
    assert "scheduled an activity task named 'B' with this sequence number" in final["output"]


def test_fewer_calls_fail_naming_the_missing_one(host, tmp_path):
    instance_id, plan_file = start_waiting(host, tmp_path, ["A", "B"])

    final = change_plan_and_finish(host, instance_id, plan_file, ["A"])

    assert final["runtimeStatus"] == "Failed"
    assert final["output"].startswith(PREFIX)
    assert "sequence ID 1 and name 'B' (version '')" in final["output"]
    assert "hasn't (yet?) scheduled this task" in final["output"]


def test_more_calls_after_the_recorded_ones_are_new_work(host, tmp_path):
    instance_id, plan_file = start_waiting(host, tmp_path, ["A"])

    final = change_plan_and_finish(host, instance_id, plan_file, ["A", "B"])

    # As in the Durable Task Framework: the replayed prefix matches, the extra call is simply scheduled.
    assert final["runtimeStatus"] == "Completed"
    assert final["output"] == ["A0", "B1"]


def test_non_determinism_seen_through_the_sdk_client(host, tmp_path):
    instance_id, plan_file = start_waiting(host, tmp_path, ["B"], sdk=True)
    plan_file.write_text(json.dumps(["A"]))

    host.sdk(lambda client: client.raise_event(instance_id, "Finish", None))
    host.wait(instance_id)
    status = host.sdk(lambda client: client.get_status(instance_id))

    assert status.runtime_status == OrchestrationRuntimeStatus.Failed
    assert status.output.startswith(PREFIX)
    assert "sequence number 0 named 'B'" in status.output

"""Replays the human_interaction example's orchestrators through the real SDK: WaitForExternalEvent actions
(no event id), events matched by name, events recorded before their wait, repeated waits for one name."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from history import (
    event_raised,
    execution_started,
    load_function,
    orchestrator_completed,
    orchestrator_started,
    replay,
    task_completed,
    task_scheduled,
)

APP = Path(__file__).resolve().parents[1] / "apps" / "human_interaction"
approval = load_function(APP, "ApprovalWorkflow")
collect = load_function(APP, "Collect")


def wait(name):
    return {"actionType": 6, "externalEventName": name, "reason": "ExternalEvent"}


def run_collect(names, events):
    job = {"events": names}
    history = [orchestrator_started(0), execution_started("Collect", job)] + events
    return replay(collect.main, history, input=json.dumps(job))


def test_approval_waits_after_the_request_and_returns_the_decision():
    request = {"item": "laptop"}
    send = {"actionType": 0, "functionName": "SendApprovalRequest", "input": json.dumps(request)}
    history = [orchestrator_started(0), execution_started("ApprovalWorkflow", request),
               task_scheduled(0, "SendApprovalRequest", request), orchestrator_completed(0),
               orchestrator_started(1), task_completed(0, "Please approve: laptop", at=1)]

    waiting = replay(approval.main, history, input=json.dumps(request))
    assert waiting == {"isDone": False, "schemaVersion": 2, "actions": [[send, wait("Approval")]]}

    history += [orchestrator_completed(1), orchestrator_started(2), event_raised("Approval", {"ok": True}, at=2)]
    done = replay(approval.main, history, input=json.dumps(request))
    assert done["isDone"] is True
    assert done["output"] == {"ticket": "Please approve: laptop", "decision": {"ok": True}}


def test_an_event_with_another_name_does_not_complete_the_wait():
    # The SDK keeps an event nobody waits for (yet), with a warning.
    with pytest.warns(UserWarning, match="Potential duplicate Task completion for TaskId: B"):
        state = run_collect(["A"], [orchestrator_completed(0), orchestrator_started(1), event_raised("B", 1, at=1)])

    assert state == {"isDone": False, "schemaVersion": 2, "actions": [[wait("A")]]}


def test_events_recorded_before_their_wait_are_used_when_the_wait_comes():
    events = [orchestrator_completed(0), orchestrator_started(1), event_raised("C", "third", at=1),
              event_raised("B", "second", at=1), orchestrator_completed(1), orchestrator_started(2),
              event_raised("A", "first", at=2)]

    with pytest.warns(UserWarning, match="Potential duplicate Task completion"):
        state = run_collect(["A", "B", "C"], events)

    assert state["isDone"] is True
    assert state["output"] == ["first", "second", "third"]
    assert state["actions"] == [[wait("A"), wait("B"), wait("C")]]


def test_repeated_waits_for_one_name_take_the_events_in_order():
    events = [orchestrator_completed(0), orchestrator_started(1)] + [event_raised("Step", n, at=1) for n in (1, 2)]

    partial = run_collect(["Step", "Step", "Step"], events)
    assert partial["isDone"] is False
    assert partial["actions"] == [[wait("Step")] * 3]

    done = run_collect(["Step", "Step", "Step"], events + [event_raised("Step", 3, at=1)])
    assert done["output"] == [1, 2, 3]


def test_event_data_is_decoded_once_as_json():
    """The SDK client sends event data encoded twice; the orchestrator sees the inner JSON text."""
    events = [orchestrator_completed(0), orchestrator_started(1), event_raised("A", "true", at=1),
              event_raised("B", True, at=1)]

    assert run_collect(["A", "B"], events)["output"] == ["true", True]

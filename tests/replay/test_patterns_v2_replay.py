"""Replays the v2 patterns app's orchestrators (tests/apps/patterns_v2, Blueprints registered into a DFApp) through
the real SDK: the fan-out's parallel CallActivity actions, and the approval's race of an event against a timer."""
from __future__ import annotations

import json

from history import (
    event_raised,
    execution_started,
    orchestrator_completed,
    orchestrator_started,
    replay,
    task_completed,
    task_scheduled,
    timer_created,
    timer_fired,
)
from v2_app import v2_functions

FUNCTIONS = v2_functions("patterns_v2")
REQUEST = {"item": "laptop", "timeoutSeconds": 3600}


def test_the_fan_out_schedules_one_square_per_number_in_one_episode():
    job = {"numbers": [2, 3, 4]}
    state = replay(FUNCTIONS["fan_out_fan_in"], [orchestrator_started(0), execution_started("FanOutFanIn", job)],
                   input=json.dumps(job))

    [[when_all]] = state["actions"]
    assert when_all["actionType"] == 12  # WhenAll
    assert [(a["actionType"], a["functionName"], a["input"]) for a in when_all["compoundActions"]] == [
        (0, "Square", "2"), (0, "Square", "3"), (0, "Square", "4")]


def test_the_fan_in_sums_the_completed_squares():
    job = {"numbers": [2, 3]}
    history = [orchestrator_started(0), execution_started("FanOutFanIn", job), task_scheduled(0, "Square", 2),
               task_scheduled(1, "Square", 3), orchestrator_completed(0), orchestrator_started(1),
               task_completed(0, 4, at=1), task_completed(1, 9, at=1)]

    state = replay(FUNCTIONS["fan_out_fan_in"], history, input=json.dumps(job))

    assert (state["isDone"], state["output"]) == (True, {"count": 2, "sum": 13})


def approval_history():
    return [orchestrator_started(0), execution_started("ApprovalWorkflow", REQUEST),
            task_scheduled(0, "SendApprovalRequest", REQUEST), orchestrator_completed(0),
            orchestrator_started(1), task_completed(0, "Please approve: laptop", at=1)]


def test_the_approval_waits_for_the_event_and_a_deadline_timer_at_once():
    state = replay(FUNCTIONS["approval_workflow"], approval_history(), input=json.dumps(REQUEST))

    [[send, when_any]] = state["actions"]
    assert send["functionName"] == "SendApprovalRequest"
    assert when_any["actionType"] == 11  # WhenAny of WaitForExternalEvent and CreateTimer (an hour after start)
    assert [a["actionType"] for a in when_any["compoundActions"]] == [6, 5]
    assert when_any["compoundActions"][1]["fireAt"] == "2024-05-01T13:00:01.000000Z"


def test_an_event_before_the_deadline_decides():
    history = approval_history() + [timer_created(1, fire_at=3601, at=1), orchestrator_completed(1),
                                    orchestrator_started(2), event_raised("Approval", {"approved": True}, at=2)]

    state = replay(FUNCTIONS["approval_workflow"], history, input=json.dumps(REQUEST))

    assert state["output"] == {"ticket": "Please approve: laptop", "decision": {"approved": True}}


def test_the_deadline_decides_when_no_event_came():
    history = approval_history() + [timer_created(1, fire_at=3601, at=1), orchestrator_completed(1),
                                    orchestrator_started(3601), timer_fired(1, fire_at=3601)]

    state = replay(FUNCTIONS["approval_workflow"], history, input=json.dumps(REQUEST))

    assert state["output"] == {"ticket": "Please approve: laptop", "decision": "timed out"}

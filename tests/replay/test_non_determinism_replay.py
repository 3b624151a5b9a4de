"""Replays the non_determinism example's Planned orchestrator through the real SDK with a plan that changed after
the history was recorded. The SDK matches completions to tasks by sequence number only, so it would hand A's
result to B and run on: the actions it returns disagree with the history, and detecting that is the host's job
(devhost fails the instance; see tests/e2e/test_non_determinism.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from history import (
    devhost_decision,
    event_raised,
    execution_started,
    load_function,
    orchestrator_completed,
    orchestrator_started,
    replay,
    task_completed,
    task_scheduled,
)

APP = Path(__file__).resolve().parents[1] / "apps" / "non_determinism"
planned = load_function(APP, "Planned")


@pytest.fixture
def plan(tmp_path):
    path = tmp_path / "plan.json"

    def write(names):
        path.write_text(json.dumps(names))
        return {"plan": str(path)}

    return write


def recorded_history(job):
    """Activity A ran as task 0, then the orchestrator waited; now the Finish event arrives."""
    return [orchestrator_started(0), execution_started("Planned", job), task_scheduled(0, "A", 0),
            orchestrator_completed(0), orchestrator_started(1), task_completed(0, "A0", at=1),
            orchestrator_completed(1), orchestrator_started(2), event_raised("Finish", None, at=2)]


def call(name, position):
    return {"actionType": 0, "functionName": name, "input": json.dumps(position)}


def test_same_plan_replays_to_the_recorded_actions(plan):
    job = plan(["A"])

    state = replay(planned.main, recorded_history(job), input=json.dumps(job))

    assert state["isDone"] is True
    assert state["output"] == ["A0"]
    assert state["actions"] == [[call("A", 0), {"actionType": 6, "externalEventName": "Finish",
                                                 "reason": "ExternalEvent"}]]


def test_changed_plan_makes_the_actions_disagree_with_the_history(plan):
    job = plan(["A"])
    history = recorded_history(job)
    plan(["B"])

    state = replay(planned.main, history, input=json.dumps(job), host_agrees=False)

    # History says task 0 is activity A; the replay now calls B as task 0 and the SDK gives it A's result.
    recorded = [(e["EventId"], e["Name"]) for e in history if e["EventType"] == 4]
    replayed = [(i, a["functionName"]) for i, a in enumerate(state["actions"][0]) if a["actionType"] == 0]
    assert recorded == [(0, "A")]
    assert replayed == [(0, "B")]
    assert state["output"] == ["A0"]  # wrong, which is why the host must refuse to apply this state
    decision = devhost_decision(history, state)
    assert decision.status.value == "Failed"
    assert json.loads(decision.output) == (
        "Orchestrator function 'Planned' failed: Non-Deterministic workflow detected: A previous execution of this "
        "orchestration scheduled an activity task with sequence number 0 named 'A', but the current orchestration "
        "replay instead scheduled an activity task named 'B' with this sequence number.  Was a change made to the "
        "orchestrator code after this instance had already started running?")

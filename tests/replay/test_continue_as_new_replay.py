"""Replays the continue_as_new example's orchestrators through the real SDK: a ContinueAsNew action with the new
input (JSON text) ends the execution (isDone without output); the last execution returns the count."""
from __future__ import annotations

import json
from pathlib import Path

from history import (
    execution_started,
    load_function,
    orchestrator_completed,
    orchestrator_started,
    replay,
    task_completed,
    task_scheduled,
)

APP = Path(__file__).resolve().parents[1] / "apps" / "continue_as_new"
counter = load_function(APP, "Counter")
pager = load_function(APP, "Pager")


def increment(value):
    return {"actionType": 0, "functionName": "Increment", "input": json.dumps(value)}


def counter_history(state, result=None):
    events = [orchestrator_started(0), execution_started("Counter", state)]
    if result is not None:
        events += [task_scheduled(0, "Increment", state["count"]), orchestrator_completed(0), orchestrator_started(1),
                   task_completed(0, result, at=1)]
    return events


def test_first_episode_of_an_execution_increments():
    state = {"count": 7, "limit": 50}

    assert replay(counter.main, counter_history(state), input=json.dumps(state)) == {
        "isDone": False, "schemaVersion": 2, "actions": [[increment(7)]]}


def test_below_the_limit_the_execution_continues_as_new_with_the_next_state():
    state = {"count": 7, "limit": 50}

    result = replay(counter.main, counter_history(state, 8), input=json.dumps(state))

    assert result["isDone"] is True
    assert "output" not in result
    assert result["customStatus"] == {"count": 8}
    assert result["actions"] == [[increment(7), {"actionType": 4, "input": json.dumps({"count": 8, "limit": 50})}]]


def test_at_the_limit_the_last_execution_returns_the_count():
    state = {"count": 49, "limit": 50}

    result = replay(counter.main, counter_history(state, 50), input=json.dumps(state))

    assert result["isDone"] is True
    assert result["output"] == 50
    assert result["actions"] == [[increment(49)]]


def test_every_execution_replays_a_history_of_the_same_size():
    """What continue-as-new buys: execution k sees the same four events as execution 1, never more."""
    for count in (0, 25, 48):
        state = {"count": count, "limit": 50}
        history = counter_history(state, count + 1)
        assert len(history) == 6
        assert replay(counter.main, history, input=json.dumps(state))["actions"][0][1]["input"] == json.dumps(
            {"count": count + 1, "limit": 50})


def test_pager_continues_as_new_with_a_string_cursor():
    history = [orchestrator_started(0), execution_started("Pager", "page-1"), task_scheduled(0, "NextPage", "page-1"),
               orchestrator_completed(0), orchestrator_started(1), task_completed(0, "page-2", at=1)]

    result = replay(pager.main, history, input=json.dumps("page-1"))

    assert result["actions"][0][1] == {"actionType": 4, "input": json.dumps("page-2")}

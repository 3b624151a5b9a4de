"""Replays the fan_out_fan_in example's orchestrators through the real SDK: task_all schedules every activity
in one WhenAll and fans in only when all completed (in any order); task_any resumes with the first to finish."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from history import (
    execution_started,
    load_function,
    orchestrator_completed,
    orchestrator_started,
    replay,
    replay_failure,
    task_completed,
    task_failed,
    task_scheduled,
)

APP = Path(__file__).resolve().parents[1] / "apps" / "fan_out_fan_in"
fan_out = load_function(APP, "FanOutFanIn")
first_response = load_function(APP, "FirstResponse")

NUMBERS = [3, 4, 5]


def square(n):
    return {"actionType": 0, "functionName": "Square", "input": json.dumps(n)}


def fetch(mirror, seconds):
    return {"actionType": 0, "functionName": "Fetch", "input": json.dumps({"mirror": mirror, "seconds": seconds})}


def fan_out_history(completions):
    """All Squares scheduled in the first episode; `completions` (task id, result) arrive in the second."""
    events = [orchestrator_started(0), execution_started("FanOutFanIn", {"numbers": NUMBERS})]
    events += [task_scheduled(i, "Square", n) for i, n in enumerate(NUMBERS)]
    events += [orchestrator_completed(0), orchestrator_started(1)]
    events += [task_completed(task_id, result, at=1) for task_id, result in completions]
    return events


def run_fan_out(history):
    return replay(fan_out.main, history, input=json.dumps({"numbers": NUMBERS}))


def test_first_episode_schedules_every_activity_in_one_when_all():
    state = run_fan_out(fan_out_history([])[:2])

    assert state == {"isDone": False, "schemaVersion": 2,
                     "actions": [[{"actionType": 12, "compoundActions": [square(n) for n in NUMBERS]}]]}


def test_partial_completions_do_not_fan_in():
    state = run_fan_out(fan_out_history([(2, 25), (0, 9)]))

    assert state["isDone"] is False
    assert "output" not in state


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
def test_all_completions_in_any_order_fan_in_to_the_sum(order):
    state = run_fan_out(fan_out_history([(i, NUMBERS[i] ** 2) for i in order]))

    assert state["isDone"] is True
    assert state["output"] == {"count": 3, "sum": 9 + 16 + 25}
    assert state["actions"] == [[{"actionType": 12, "compoundActions": [square(n) for n in NUMBERS]}]]


def test_a_failed_activity_fails_the_fan_in_with_its_reason():
    history = fan_out_history([(0, 9)])
    history.append(task_failed(1, "Activity function 'Square' failed: TypeError: not a number", at=1))

    error, state = replay_failure(fan_out.main, history, input=json.dumps({"numbers": NUMBERS}))

    assert error.startswith("Activity function 'Square' failed: TypeError: not a number")
    assert state["isDone"] is False


def test_thousand_activities_get_ids_zero_to_999_in_order():
    numbers = list(range(1000))
    history = [orchestrator_started(0), execution_started("FanOutFanIn", {"count": 1000})]
    state = replay(fan_out.main, history, input=json.dumps({"count": 1000}))
    assert [a["input"] for a in state["actions"][0][0]["compoundActions"]] == [json.dumps(n) for n in numbers]

    history += [task_scheduled(n, "Square", n) for n in numbers] + [orchestrator_completed(0), orchestrator_started(1)]
    history += [task_completed(n, n * n, at=1) for n in reversed(numbers)]
    state = replay(fan_out.main, history, input=json.dumps({"count": 1000}))
    assert state["output"] == {"count": 1000, "sum": 332833500}


def test_task_any_resumes_with_the_first_completion():
    mirrors = {"eu": 1, "us": 0}
    history = [orchestrator_started(0), execution_started("FirstResponse", mirrors),
               task_scheduled(0, "Fetch", {"mirror": "eu", "seconds": 1}),
               task_scheduled(1, "Fetch", {"mirror": "us", "seconds": 0}),
               orchestrator_completed(0), orchestrator_started(1), task_completed(1, "answer from us", at=1)]

    first = replay(first_response.main, history[:2], input=json.dumps(mirrors))
    assert first["actions"] == [[{"actionType": 11, "compoundActions": [fetch("eu", 1), fetch("us", 0)]}]]
    assert first["isDone"] is False

    state = replay(first_response.main, history, input=json.dumps(mirrors))
    assert state["isDone"] is True
    assert state["output"] == "answer from us"

    # The loser's late completion, replayed in a later episode, changes nothing.
    history += [orchestrator_completed(1), orchestrator_started(2), task_completed(0, "answer from eu", at=2)]
    assert replay(first_response.main, history, input=json.dumps(mirrors))["output"] == "answer from us"

"""Replays the retries example's orchestrators through the real SDK with the history the host writes for a
retry policy (docs/protocol.md §4.3): every attempt and every retry timer takes the next event id, so max=3 gives
0 task, 1 timer, 2 task, 3 timer, 4 task, 5 timer; the action list never changes."""
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
    sub_orchestration_completed,
    sub_orchestration_created,
    sub_orchestration_failed,
    task_completed,
    task_failed,
    task_scheduled,
    timer_created,
    timer_fired,
)

APP = Path(__file__).resolve().parents[1] / "apps" / "retries"
retry_activity = load_function(APP, "RetryActivity")
retry_sub = load_function(APP, "RetrySubOrchestrator")
JOB = {"dir": "/tmp/counters", "failures": 9, "attempts": 3, "interval_ms": 1000}
WORK = {"counter": "/tmp/counters/instance-1", "failures": 9}
OPTIONS = {"firstRetryIntervalInMilliseconds": 1000, "maxNumberOfAttempts": 3}


def reason(attempt):
    return f"Activity function 'Flaky' failed: ValueError: attempt {attempt} failed"


def attempts_history(outcomes, scheduled=None, failed=task_failed, completed=task_completed,
                     name="RetryActivity"):
    """One episode per event: attempt k is scheduled with id 2k and its retry timer takes id 2k+1."""
    scheduled = scheduled or flaky_scheduled
    events = [orchestrator_started(0), execution_started(name, JOB)]
    at = 0
    for attempt, outcome in enumerate(outcomes):
        task_id, timer_id = 2 * attempt, 2 * attempt + 1
        events += [scheduled(task_id, at), orchestrator_completed(at), orchestrator_started(at + 1)]
        at += 1
        if outcome == "ok":
            events.append(completed(task_id, {"attempts": attempt + 1}, at=at))
            break
        events.append(failed(task_id, reason(attempt + 1), at=at))
        events += [timer_created(timer_id, at + 1, at=at), orchestrator_completed(at), orchestrator_started(at + 1),
                   timer_fired(timer_id, at + 1)]
        at += 1
    return events


def flaky_scheduled(task_id, at):
    return task_scheduled(task_id, "Flaky", WORK, at=at)


def run(history, module=retry_activity):
    return replay(module.main, history, input=json.dumps(JOB))


RETRY_ACTION = [[{"actionType": 12, "compoundActions": [
    {"actionType": 1, "functionName": "Flaky", "input": json.dumps(WORK), "retryOptions": OPTIONS}]}]]


def test_first_episode_is_one_call_activity_with_retry_action():
    state = run([orchestrator_started(0), execution_started("RetryActivity", JOB)])

    assert state == {"isDone": False, "schemaVersion": 2, "actions": RETRY_ACTION}


@pytest.mark.parametrize("cut", range(1, 5))
def test_every_episode_of_the_retries_keeps_the_same_action_and_waits(cut):
    history = attempts_history(["fail", "fail", "fail"])
    # End the history right after event id `cut` happened: the orchestrator must still be waiting.
    last = max(i for i, e in enumerate(history) if e.get("TaskScheduledId") == cut or e.get("TimerId") == cut)
    state = run(history[:last + 1])

    assert state == {"isDone": False, "schemaVersion": 2, "actions": RETRY_ACTION}


def test_success_on_the_third_attempt_uses_ids_0_to_4():
    history = attempts_history(["fail", "fail", "ok"])
    assert [e.get("TaskScheduledId", e.get("TimerId")) for e in history if e["EventType"] in (5, 6, 11)] == [
        0, 1, 2, 3, 4]

    state = run(history)

    assert state["isDone"] is True
    assert state["output"] == {"attempts": 3}


def test_three_failures_fail_only_after_the_extra_timer_id_5():
    history = attempts_history(["fail", "fail", "fail"])
    assert [e["EventId"] for e in history if e["EventType"] in (4, 10)] == [0, 1, 2, 3, 4, 5]

    before_last_timer = history[:-1]
    assert run(before_last_timer)["isDone"] is False

    error, state = replay_failure(retry_activity.main, history, input=json.dumps(JOB))
    assert error.startswith(reason(3))
    assert state["isDone"] is False
    assert state["actions"] == RETRY_ACTION


def test_sub_orchestration_retries_use_the_same_numbering():
    work = {"counter": "/tmp/counters/instance-1", "failures": 9}

    def created(task_id, at):
        return sub_orchestration_created(task_id, "FlakyChild", f"execution-1:{task_id}", work, at=at)

    def failed(task_id, text, at):
        return sub_orchestration_failed(task_id, f"Orchestrator function 'FlakyChild' failed: {text}", at=at)

    history = attempts_history(["fail", "fail", "ok"], created, failed, sub_orchestration_completed,
                               name="RetrySubOrchestrator")
    first = run(history[:2], retry_sub)
    assert first["actions"] == [[{"actionType": 12, "compoundActions": [
        {"actionType": 3, "functionName": "FlakyChild", "input": json.dumps(work), "retryOptions": OPTIONS,
         "instanceId": None, "version": None}]}]]

    state = run(history, retry_sub)
    assert state["isDone"] is True
    assert state["output"] == {"attempts": 3}

    error, _ = replay_failure(retry_sub.main, attempts_history(["fail"] * 3, created, failed,
                                                                name="RetrySubOrchestrator"),
                              input=json.dumps(JOB))
    assert error.startswith("Orchestrator function 'FlakyChild' failed: " + reason(3))

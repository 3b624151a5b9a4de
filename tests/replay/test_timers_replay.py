"""Replays the timers example's orchestrators through the real SDK: CreateTimer actions and their fireAt,
the SDK's split of timers longer than six days, the cancelled timer of the timeout pattern, a monitor loop."""
from __future__ import annotations

import json
from pathlib import Path

from history import (
    event_raised,
    execution_started,
    load_function,
    orchestrator_completed,
    orchestrator_started,
    replay,
    task_completed,
    task_scheduled,
    timer_created,
    timer_fired,
    timestamp,
)

APP = Path(__file__).resolve().parents[1] / "apps" / "timers"
countdown = load_function(APP, "Countdown")
approval = load_function(APP, "ApprovalWithTimeout")
monitor = load_function(APP, "Monitor")
DAY = 86400


def fire_at(seconds):
    """CreateTimer's fireAt format (six fractional digits)."""
    return timestamp(seconds)[:-2] + "Z"


def timer(seconds, cancelled=False):
    return {"actionType": 5, "fireAt": fire_at(seconds), "isCanceled": cancelled}


def run(module, name, job, events):
    history = [orchestrator_started(0), execution_started(name, job)] + events
    return replay(module.main, history, input=json.dumps(job))


def test_short_timer_is_one_create_timer_action_then_completes():
    job = {"seconds": 60}
    assert run(countdown, "Countdown", job, [])["actions"] == [[timer(60)]]

    state = run(countdown, "Countdown", job, [timer_created(0, 60), orchestrator_completed(0),
                                              orchestrator_started(61), timer_fired(0, 60, at=61)])
    assert state["isDone"] is True
    assert state["output"] == {"due": "2024-05-01T12:01:00+00:00", "woke": "2024-05-01T12:01:01+00:00"}


def test_timer_longer_than_six_days_is_split_into_three_day_steps():
    job = {"seconds": 7 * DAY}
    first = run(countdown, "Countdown", job, [])
    assert first["actions"] == [[{"actionType": 12, "compoundActions": [timer(3 * DAY)]}]]

    episode_two = [timer_created(0, 3 * DAY), orchestrator_completed(0), orchestrator_started(3 * DAY),
                   timer_fired(0, 3 * DAY)]
    second = run(countdown, "Countdown", job, episode_two)
    assert second["isDone"] is False
    assert second["actions"] == [[{"actionType": 12, "compoundActions": [timer(3 * DAY)]}, timer(7 * DAY)]]

    episode_three = [timer_created(1, 7 * DAY, at=3 * DAY), orchestrator_completed(3 * DAY),
                     orchestrator_started(7 * DAY), timer_fired(1, 7 * DAY)]
    done = run(countdown, "Countdown", job, episode_two + episode_three)
    assert done["isDone"] is True
    assert done["output"]["due"] == "2024-05-08T12:00:00+00:00"


def test_timeout_pattern_event_first_cancels_the_timer():
    job = {"timeout": 60}
    wait = {"actionType": 6, "externalEventName": "Approval", "reason": "ExternalEvent"}
    assert run(approval, "ApprovalWithTimeout", job, [])["actions"] == [
        [{"actionType": 11, "compoundActions": [wait, timer(60)]}]]

    state = run(approval, "ApprovalWithTimeout", job, [timer_created(0, 60), orchestrator_completed(0),
                                                        orchestrator_started(10), event_raised("Approval", "ok", 10)])
    assert state["isDone"] is True
    assert state["output"] == {"approved": "ok"}
    assert state["actions"] == [[{"actionType": 11, "compoundActions": [wait, timer(60, cancelled=True)]}]]


def test_timeout_pattern_timer_first_times_out():
    state = run(approval, "ApprovalWithTimeout", {"timeout": 60}, [
        timer_created(0, 60), orchestrator_completed(0), orchestrator_started(60), timer_fired(0, 60)])

    assert state["isDone"] is True
    assert state["output"] == {"approved": None, "timedOut": True}


def test_monitor_checks_then_sleeps_until_the_file_appears():
    job = {"path": "/tmp/x", "interval": 60, "expiry": 3600}
    read = {"actionType": 0, "functionName": "ReadFile", "input": json.dumps("/tmp/x")}
    events = [task_scheduled(0, "ReadFile", "/tmp/x"), orchestrator_completed(0), orchestrator_started(1),
              task_completed(0, None, at=1)]
    state = run(monitor, "Monitor", job, events)
    assert state["actions"] == [[read, timer(61)]]
    assert state["customStatus"] == {"checks": 1}

    events += [timer_created(1, 61, at=1), orchestrator_completed(1), orchestrator_started(61), timer_fired(1, 61),
               task_scheduled(2, "ReadFile", "/tmp/x", at=61), orchestrator_completed(61), orchestrator_started(62),
               task_completed(2, "done", at=62)]
    state = run(monitor, "Monitor", job, events)
    assert state["isDone"] is True
    assert state["output"] == {"content": "done", "checks": 2}
    assert state["actions"] == [[read, timer(61), read]]

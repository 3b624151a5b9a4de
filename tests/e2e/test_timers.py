"""Durable timers end to end against devhost running tests/apps/timers: a timer fires at its time (real clock
and time travel), survives a host restart, is cancelled by the timeout pattern, drives a monitor loop, and
timers longer than six days are split by the SDK into three-day steps."""
from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from azure.durable_functions.models.OrchestrationRuntimeStatus import (
    OrchestrationRuntimeStatus,
)

from devhost.testing import app_host, poll, timestamp

APP = Path(__file__).resolve().parents[1] / "apps" / "timers"
HOUR = 3600
DAY = 24 * HOUR
host = app_host(APP)


def wait_for_timers(host, instance_id, count):
    """Wait until the instance has created `count` timers; it must still be running then."""
    def created():
        events = host.history(instance_id)
        timers = [e for e in events if e["EventType"] == "TimerCreated"]
        return timers if len(timers) >= count else None

    timers = poll(created, timeout=10, what=f"{count} TimerCreated events of {instance_id}")
    assert host.status(instance_id)["runtimeStatus"] == "Running"
    return timers


def test_timer_fires_at_its_time(host):
    started = time.monotonic()
    instance_id = host.start_instance("Countdown", {"seconds": 1})
    wait_for_timers(host, instance_id, 1)

    final = host.wait(instance_id, timeout=10)

    assert final["runtimeStatus"] == "Completed"
    assert time.monotonic() - started >= 1.0
    assert timestamp(final["output"]["woke"]) >= timestamp(final["output"]["due"])
    assert host.event_kinds(instance_id) == ["ExecutionStarted", "TimerCreated", "TimerFired", "ExecutionCompleted"]


def test_an_hour_long_timer_fires_when_time_is_moved_past_it(host):
    instance_id = host.start_instance("Countdown", {"seconds": HOUR})
    [timer] = wait_for_timers(host, instance_id, 1)
    created = timestamp(host.status(instance_id)["createdTime"])  # whole seconds
    assert abs((timestamp(timer["FireAt"]) - created).total_seconds() - HOUR) < 2

    host.advance(HOUR)
    final = host.wait(instance_id, timeout=10)

    assert final["runtimeStatus"] == "Completed"
    due, woke = timestamp(final["output"]["due"]), timestamp(final["output"]["woke"])
    assert woke >= due
    fired = [e for e in host.history(instance_id) if e["EventType"] == "TimerFired"]
    assert [timestamp(e["FireAt"]) for e in fired] == [timestamp(timer["FireAt"])]


def test_timer_longer_than_six_days_is_split_into_three_day_steps(host):
    instance_id = host.sdk(lambda client: client.start_new("Countdown", None, {"seconds": 7 * DAY}))
    [first] = wait_for_timers(host, instance_id, 1)
    created = timestamp(host.status(instance_id)["createdTime"])
    assert abs((timestamp(first["FireAt"]) - created).total_seconds() - 3 * DAY) < 2

    host.advance(3 * DAY)
    timers = wait_for_timers(host, instance_id, 2)
    second = timestamp(timers[1]["FireAt"])
    assert abs((second - created).total_seconds() - 7 * DAY) < 2

    host.advance(4 * DAY)
    final = host.wait(instance_id, timeout=10)
    assert final["runtimeStatus"] == "Completed"
    assert timestamp(final["output"]["due"]) == second
    assert host.event_kinds(instance_id) == ["ExecutionStarted", "TimerCreated", "TimerFired", "TimerCreated",
                                        "TimerFired", "ExecutionCompleted"]


def test_approval_before_the_deadline_cancels_the_timer(host):
    instance_id = host.start_instance("ApprovalWithTimeout", {"timeout": HOUR})
    wait_for_timers(host, instance_id, 1)

    assert host.raise_event(instance_id, "Approval", {"by": "ana"}).status_code == 202
    final = host.wait(instance_id, timeout=10)

    # Completed at once: the cancelled timer does not keep the orchestration open for the hour.
    assert final["runtimeStatus"] == "Completed"
    assert final["output"] == {"approved": {"by": "ana"}}
    assert host.event_kinds(instance_id) == ["ExecutionStarted", "TimerCreated", "EventRaised", "ExecutionCompleted"]


def test_approval_through_the_sdk_client(host):
    instance_id = host.sdk(lambda client: client.start_new("ApprovalWithTimeout", None, {"timeout": HOUR}))
    wait_for_timers(host, instance_id, 1)

    host.sdk(lambda client: client.raise_event(instance_id, "Approval", "yes"))
    host.wait(instance_id, timeout=10)
    status = host.sdk(lambda client: client.get_status(instance_id))

    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    # The SDK client JSON-encodes event data twice (docs/protocol.md §2.1): "yes" arrives as the text '"yes"'.
    assert status.output == {"approved": '"yes"'}


def test_no_approval_times_out_when_the_timer_fires(host):
    instance_id = host.start_instance("ApprovalWithTimeout", {"timeout": HOUR})
    wait_for_timers(host, instance_id, 1)

    host.advance(HOUR)
    final = host.wait(instance_id, timeout=10)

    assert final["runtimeStatus"] == "Completed"
    assert final["output"] == {"approved": None, "timedOut": True}
    assert host.event_kinds(instance_id) == ["ExecutionStarted", "TimerCreated", "TimerFired", "ExecutionCompleted"]
    # A late approval is for a finished instance: 410 Gone.
    assert host.raise_event(instance_id, "Approval", True).status_code == 410


def test_monitor_polls_until_the_file_appears(host, tmp_path):
    target = tmp_path / "ready.txt"
    instance_id = host.start_instance("Monitor", {"path": str(target), "interval": 60, "expiry": HOUR})

    def checks(n):
        return poll(lambda: (host.status(instance_id)["customStatus"] or {}).get("checks") == n,
                    timeout=10, what=f"check {n}")

    checks(1)
    wait_for_timers(host, instance_id, 1)
    host.advance(60)
    checks(2)
    wait_for_timers(host, instance_id, 2)
    target.write_text("done")
    host.advance(60)
    final = host.wait(instance_id, timeout=10)

    assert final["runtimeStatus"] == "Completed"
    assert final["output"] == {"content": "done", "checks": 3}
    assert final["customStatus"] == {"checks": 2}


def test_monitor_gives_up_at_expiry(host, tmp_path):
    instance_id = host.start_instance("Monitor", {"path": str(tmp_path / "never.txt"), "interval": 60,
                                                  "expiry": HOUR})
    wait_for_timers(host, instance_id, 1)

    host.advance(2 * HOUR)  # time steps through every 60 s timer until the loop passes its expiry
    final = host.wait(instance_id, timeout=10)

    assert final["output"] == {"content": None, "checks": HOUR // 60}


def test_time_travel_steps_through_a_loop_timer_by_timer(host):
    instance_id = host.start_instance("Ticker", {"ticks": 10, "seconds": 60})
    [first] = wait_for_timers(host, instance_id, 1)
    due = timestamp(first["FireAt"])

    travel = host.advance(600)

    # No polling: the advance answers once every timer up to the target has fired and its episode has run.
    final = host.status(instance_id, showHistory=True)
    assert final["runtimeStatus"] == "Completed", final
    assert (travel["steps"], travel["settled"]) == (10, True)
    expected = [due + timedelta(seconds=60 * k) for k in range(10)]
    assert [timestamp(t) for t in final["output"]] == expected  # each episode ran at its timer's due time
    events = final["historyEvents"]
    assert [timestamp(e["FireAt"]) for e in events if e["EventType"] == "TimerFired"] == expected
    assert timestamp(events[-1]["Timestamp"]) == expected[-1]  # ExecutionCompleted, as if 600 s had passed


@pytest.mark.usefixtures("local_only")
def test_timer_survives_a_host_killed_while_waiting(devhost_factory):
    host = devhost_factory(APP, time_travel=True).start()
    long_id = host.start_instance("Countdown", {"seconds": HOUR})
    short_id = host.start_instance("Countdown", {"seconds": 1})
    wait_for_timers(host, long_id, 1)
    wait_for_timers(host, short_id, 1)

    host.kill()
    host.start()

    # The short timer comes due on the restarted host by itself; the long one when time passes it.
    short = host.wait(short_id, timeout=10)
    assert short["runtimeStatus"] == "Completed"
    assert timestamp(short["output"]["woke"]) >= timestamp(short["output"]["due"])
    assert host.status(long_id)["runtimeStatus"] == "Running"
    host.advance(HOUR)
    final = host.wait(long_id, timeout=10)
    assert final["runtimeStatus"] == "Completed"
    assert host.event_kinds(long_id) == ["ExecutionStarted", "TimerCreated", "TimerFired", "ExecutionCompleted"]

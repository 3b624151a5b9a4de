"""devhost.runtime.timer_triggers: NCRONTAB schedules (seconds first), runOnStartup, the schedule monitor's past-due runs and time
travel, with the timer function called through azure.functions' TimerRequest converter and statuses in a real store."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import azure.functions as func
import pytest

from devhost.app.bindings import Invocation
from devhost.app.loader import LoadedFunction
from devhost.clock import Clock
from devhost.errors import ConfigError
from devhost.model import Binding, FunctionSpec
from devhost.runtime.timer_triggers import Schedule, TimerTriggers, parse_schedule

T0 = datetime(2026, 1, 5, 8, 59, 30, tzinfo=timezone.utc)  # a Monday


class FixedClock(Clock):
    """Durable time at T0 plus whatever the test advances: nothing here depends on the wall clock."""

    def time(self) -> float:
        return T0.timestamp() + self.offset


# -- schedules ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("expression", "after", "expected"), [
    ("*/10 * * * * *", T0, T0 + timedelta(seconds=10)),            # seconds come first in NCRONTAB
    ("0 */5 * * * *", T0, datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)),
    ("0 30 9 * * 1-5", T0, datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc)),
    ("0 30 9 * * Sat", T0, datetime(2026, 1, 10, 9, 30, tzinfo=timezone.utc)),
    ("0 0 * * *", T0, datetime(2026, 1, 6, 0, 0, tzinfo=timezone.utc)),  # five fields: minute precision
    ("00:05:00", T0, T0 + timedelta(minutes=5)),                     # a TimeSpan interval
])
def test_next_occurrences(expression, after, expected):
    assert parse_schedule(expression).next_after(after) == expected


def test_website_time_zone_evaluates_the_schedule_in_that_zone():
    schedule = parse_schedule("0 0 9 * * *", {"WEBSITE_TIME_ZONE": "America/New_York"})

    assert schedule.next_after(T0) == datetime(2026, 1, 5, 14, 0, tzinfo=timezone.utc)  # 09:00 EST
    assert schedule.next_after(datetime(2026, 7, 1, tzinfo=timezone.utc)) == datetime(2026, 7, 1, 13, 0,
                                                                                     tzinfo=timezone.utc)  # EDT
    with pytest.raises(ConfigError, match="not an IANA time zone name"):
        parse_schedule("0 0 9 * * *", {"WEBSITE_TIME_ZONE": "Eastern Standard Time"})


def test_a_setting_reference_is_resolved_from_the_app_settings():
    assert parse_schedule("%Nightly%", {"Nightly": "0 30 2 * * *"}) == Schedule("0 30 2 * * *")
    with pytest.raises(ConfigError, match="app setting 'Nightly' is not set"):
        parse_schedule("%Nightly%", {})


@pytest.mark.parametrize("expression", ["", "* * *", "61 * * * * *", "0 0 25 * * *", "0 0 * * * * *", "00:00:00",
                                        "every hour"])
def test_invalid_schedules_are_config_errors(expression):
    with pytest.raises(ConfigError):
        parse_schedule(expression)


def test_the_monitor_is_on_by_default_for_schedules_a_minute_or_more_apart():
    assert parse_schedule("0 * * * * *").monitored_by_default(T0)
    assert not parse_schedule("*/30 * * * * *").monitored_by_default(T0)


# -- firing ---------------------------------------------------------------------------------------
def timer_function(calls, schedule="0 0 * * * *", fail=False, **options):
    """A timer-triggered LoadedFunction recording the func.TimerRequest each call receives."""
    def main(timer: func.TimerRequest) -> None:
        calls.append(timer)
        if fail:
            raise RuntimeError("the function failed")

    raw = {"name": "timer", "type": "timerTrigger", "direction": "in", "schedule": schedule, **options}
    spec = FunctionSpec(name="Tick", directory="/app/Tick", script_file="__init__.py", entry_point="main",
                        bindings=(Binding("timer", "timerTrigger", "in", raw),))
    return {"Tick": Invocation(LoadedFunction(spec, main))}


async def until(check, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


def run(store, clock, invocations, scenario):
    async def main():
        timers = TimerTriggers(invocations, clock, store, lambda: "{}")
        timers.schedule_all()
        await timers.start()
        try:
            return await scenario(timers)
        finally:
            await timers.stop()

    return asyncio.run(main())


def test_time_travel_fires_the_next_occurrence_and_a_longer_jump_is_past_due(store):
    calls, clock = [], FixedClock()

    async def scenario(timers):
        assert timers.listing("Tick") == "timerTrigger (0 0 * * * *; next 2026-01-05 09:00:00 UTC)"
        await asyncio.sleep(0.01)
        assert calls == []
        clock.advance(30)
        timers.rescan()
        await until(lambda: len(calls) == 1)
        clock.advance(3 * 3600)
        timers.rescan()
        await until(lambda: len(calls) == 2)
        return timers.listing("Tick")

    listing = run(store, clock, timer_function(calls), scenario)

    assert [c.past_due for c in calls] == [False, True]
    assert calls[1].schedule_status["Last"].startswith("2026-01-05T09:00:00")
    assert calls[0].schedule == {"AdjustForDST": True}
    assert listing == "timerTrigger (0 0 * * * *; next 2026-01-05 13:00:00 UTC)"


def test_run_on_startup_fires_once_at_start(store):
    calls = []

    async def scenario(timers):
        await until(lambda: len(calls) == 1)

    run(store, FixedClock(), timer_function(calls, runOnStartup=True), scenario)

    assert calls[0].past_due is False


def test_a_first_run_gets_the_listeners_fresh_status_never_run_and_never_updated(store):
    # TimerListener.StartAsync: no stored status yet, so ScheduleStatus = {Last = default(DateTime), Next}, its
    # LastUpdated left at default(DateTime) too, until the first invocation replaces it
    calls, clock = [], FixedClock()

    async def scenario(timers):
        await until(lambda: len(calls) == 1)
        clock.advance(30)
        timers.rescan()
        await until(lambda: len(calls) == 2)

    run(store, clock, timer_function(calls, runOnStartup=True), scenario)

    first, second = (c.schedule_status for c in calls)
    assert first["Last"] == first["LastUpdated"] == "0001-01-01T00:00:00"
    assert first["Next"].startswith("2026-01-05T09:00:00")
    assert second["Last"] == second["LastUpdated"] and second["Last"].startswith("2026-01-05T08:59:30")


def test_a_run_missed_while_no_host_ran_fires_past_due_at_the_next_start(store):
    calls, clock = [], FixedClock()

    async def first_run(timers):
        await asyncio.sleep(0.01)

    run(store, clock, timer_function(calls), first_run)
    clock.advance(2 * 3600)  # the host is down over 09:00 and 10:00

    async def second_run(timers):
        await until(lambda: len(calls) == 1)

    run(store, clock, timer_function(calls), second_run)

    assert calls[0].past_due is True
    assert calls[0].schedule_status["Next"].startswith("2026-01-05T09:00:00")


def test_without_the_monitor_a_missed_run_is_not_made_up(store):
    calls, clock = [], FixedClock()

    async def idle(timers):
        await asyncio.sleep(0.01)

    run(store, clock, timer_function(calls, useMonitor=False), idle)
    clock.advance(2 * 3600)
    run(store, clock, timer_function(calls, useMonitor=False), idle)

    assert calls == []


def test_a_failing_timer_function_keeps_its_schedule(store):
    calls, clock = [], FixedClock()

    async def scenario(timers):
        for n in (1, 2):
            clock.advance(3600)
            timers.rescan()
            await until(lambda: len(calls) == n)

    run(store, clock, timer_function(calls, fail=True), scenario)

    assert len(calls) == 2


def test_a_bad_schedule_is_reported_and_the_timer_not_run(store):
    timers = TimerTriggers(timer_function([], schedule="%Missing%"), FixedClock(), store, lambda: "{}")

    timers.schedule_all()

    assert timers.timers == {}
    assert timers.skipped == [("Tick", "schedule '%Missing%': app setting 'Missing' is not set")]


def test_as_a_time_source_the_timers_report_their_next_due_time_and_when_they_are_at_rest(store):
    calls, clock = [], FixedClock()

    async def scenario(timers):
        assert timers.next_due() == datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc).timestamp()
        assert timers.idle()
        clock.advance(30)  # 09:00: due, not yet run
        assert not timers.idle()
        timers.clock_moved()
        await until(timers.idle)
        assert len(calls) == 1
        assert timers.next_due() == datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc).timestamp()

    run(store, clock, timer_function(calls), scenario)

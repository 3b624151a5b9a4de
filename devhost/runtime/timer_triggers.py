"""Timer triggers as the Functions timer extension fires them: a six-field NCRONTAB (seconds first), five-field cron
or hh:mm:ss schedule, runOnStartup, and the schedule monitor's past-due run for occurrences missed while the host
was down (useMonitor), on devhost's injected clock so that --time-travel moves them too."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from azure.functions import meta
from croniter import croniter

from devhost.app.bindings import Invoker, client_inputs
from devhost.clock import Clock
from devhost.errors import ConfigError
from devhost.model import FunctionSpec, parse_timestamp, utc
from devhost.runtime.store.contract import Store

log = logging.getLogger("devhost")
NEVER = datetime(1, 1, 1, tzinfo=timezone.utc)  # ScheduleStatus.Last before any run (DateTime.MinValue)
ZONE_SETTING = "WEBSITE_TIME_ZONE"
_SETTING = re.compile(r"^%([^%]+)%$")
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class Schedule:
    """A parsed timer schedule: a cron expression (seconds first when it has six fields) or a constant interval."""

    expression: str
    interval: timedelta | None = None
    zone: str | None = None  # WEBSITE_TIME_ZONE (an IANA name); None: UTC, the Functions default

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after `moment`, as a UTC datetime."""
        moment = utc(moment)
        if self.interval is not None:
            return moment + self.interval
        local = moment.astimezone(ZoneInfo(self.zone)) if self.zone else moment
        six = len(self.expression.split()) == 6
        return utc(croniter(self.expression, local, second_at_beginning=six).get_next(datetime))

    def monitored_by_default(self, now: datetime) -> bool:
        """useMonitor's default: on for schedules that recur a minute or more apart."""
        first = self.next_after(now)
        return self.next_after(first) - first >= timedelta(minutes=1)


def parse_schedule(text: str, environ: dict[str, str] | None = None) -> Schedule:
    """Parse a timerTrigger `schedule`, resolving a %setting% reference from the app settings first."""
    environ = os.environ if environ is None else environ
    value = text.strip()
    reference = _SETTING.match(value)
    if reference:
        if reference.group(1) not in environ:
            raise ConfigError(f"schedule {text!r}: app setting '{reference.group(1)}' is not set")
        value = environ[reference.group(1)].strip()
    span = _TIMESPAN.match(value)
    if span:
        days, hours, minutes, seconds = (int(g or 0) for g in span.groups())
        interval = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if interval <= timedelta(0):
            raise ConfigError(f"schedule {text!r}: the interval must be positive")
        return Schedule(value, interval)
    fields = value.split()
    if len(fields) not in (5, 6) or not croniter.is_valid(value, second_at_beginning=len(fields) == 6):
        raise ConfigError(f"schedule {text!r} is not a valid NCRONTAB expression "
                          "('{second} {minute} {hour} {day} {month} {day-of-week}') or hh:mm:ss interval")
    zone = environ.get(ZONE_SETTING) or None
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"{ZONE_SETTING} {zone!r} is not an IANA time zone name") from exc
    return Schedule(value, zone=zone)


def _iso(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z" if moment != NEVER else "0001-01-01T00:00:00"


def _parse_iso(text: str) -> datetime:
    return NEVER if text.startswith("0001-") else parse_timestamp(text)


@dataclass
class ScheduledTimer:
    """One timer-triggered function with its schedule, options and the next occurrence it waits for."""

    spec: FunctionSpec
    schedule: Schedule
    run_on_startup: bool
    use_monitor: bool
    next: datetime
    status: dict[str, str] | None = None  # the monitor's ScheduleStatus (Last, Next, LastUpdated)
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # set when the clock skips ahead


class TimerTriggers:
    """Fires the app's timer-triggered functions; statuses live in the store, so a missed run survives a restart."""

    def __init__(self, invocations: dict[str, Invoker], clock: Clock, store: Store,
                 client_payload: Callable[[], str]) -> None:
        self.invocations = {name: i for name, i in invocations.items() if i.fn.spec.kind == "timer"}
        self.clock = clock
        self.store = store
        self.client_payload = client_payload
        self.timers: dict[str, ScheduledTimer] = {}
        self.skipped: list[tuple[str, str]] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.fired = 0
        self.running = 0  # timer functions being called now

    def schedule_all(self) -> None:
        """Parse every timer's schedule; a timer whose schedule is invalid is reported and not run."""
        now = self.clock.now()
        for name, invocation in sorted(self.invocations.items()):
            raw = invocation.fn.spec.trigger.raw
            try:
                schedule = parse_schedule(str(raw.get("schedule") or ""))
            except ConfigError as exc:
                self.skipped.append((name, str(exc)))
                continue
            monitor = raw.get("useMonitor")
            self.timers[name] = ScheduledTimer(
                invocation.fn.spec, schedule, bool(raw.get("runOnStartup", False)),
                schedule.monitored_by_default(now) if monitor is None else _flag(monitor), schedule.next_after(now))
        for name, _ in self.skipped:
            self.invocations.pop(name)

    def listing(self, name: str) -> str:
        """The start-up line's detail: the schedule and next occurrence."""
        timer = self.timers[name]
        return f"timerTrigger ({timer.schedule.expression}; next {timer.next.strftime('%Y-%m-%d %H:%M:%S')} UTC)"

    async def start(self) -> None:
        """Run past-due (monitored) and runOnStartup timers, then fire each one on its schedule."""
        loop = asyncio.get_running_loop()
        for timer in self.timers.values():
            self.tasks.append(loop.create_task(self._run(timer)))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def rescan(self) -> None:
        """The clock moved (time travel): every timer looks again at what is due."""
        for timer in self.timers.values():
            timer.wake.set()

    # -- as a source of due times for time travel (devhost.runtime.time_travel's TimeSource) ------------------------------------
    def next_due(self) -> float | None:
        """The durable time of the earliest next occurrence; None without timers."""
        return min((t.next.timestamp() for t in self.timers.values()), default=None)

    def clock_moved(self) -> None:
        self.rescan()

    def idle(self) -> bool:
        """No timer function is running and none is due: what a move of the clock made due has run."""
        now = self.clock.time()
        return self.running == 0 and all(t.next.timestamp() > now for t in self.timers.values())

    # -- one timer -------------------------------------------------------------------------------
    def _status_key(self, timer: ScheduledTimer) -> str:
        return f"timer_status:{timer.spec.name}"

    def _load_status(self, timer: ScheduledTimer) -> dict[str, str] | None:
        saved = self.store.get_setting(self._status_key(timer))
        status = json.loads(saved) if saved else None
        # A changed schedule starts afresh, as the monitor does when Next no longer fits the schedule.
        return status if status and status.get("Schedule") == timer.schedule.expression else None

    def _save_status(self, timer: ScheduledTimer, last: datetime, following: datetime,
                     updated: datetime | None = None) -> None:
        updated = self.clock.now() if updated is None else updated
        timer.status = {"Last": _iso(last), "Next": _iso(following), "LastUpdated": _iso(updated),
                        "Schedule": timer.schedule.expression}
        self.store.put_setting(self._status_key(timer), json.dumps(timer.status))

    async def _run(self, timer: ScheduledTimer) -> None:
        now = self.clock.now()
        missed = None
        if timer.use_monitor:
            timer.status = self._load_status(timer)
            if timer.status is None:  # the listener's fresh status, never run and never updated, as it passes it
                self._save_status(timer, NEVER, timer.next, updated=NEVER)
            elif _parse_iso(timer.status["Next"]) <= now:  # an occurrence went by while no host ran
                missed = _parse_iso(timer.status["Next"])
        if missed is not None:
            await self._fire(timer, missed, past_due=True)
        elif timer.run_on_startup:
            await self._fire(timer, now, past_due=False)
        while True:
            delay = timer.next.timestamp() - self.clock.time()
            if delay > 0:
                timer.wake.clear()
                try:
                    await asyncio.wait_for(timer.wake.wait(), timeout=min(delay, 60.0))
                except asyncio.TimeoutError:
                    pass
                continue
            due = timer.next
            # Past due when more than this occurrence went by (time travelled, or the machine slept).
            await self._fire(timer, due, past_due=timer.schedule.next_after(due) <= self.clock.now())

    async def _fire(self, timer: ScheduledTimer, occurrence: datetime, past_due: bool) -> None:
        now = self.clock.now()
        timer.next = timer.schedule.next_after(now)
        status = {k: v for k, v in (timer.status or {}).items() if k != "Schedule"} if timer.use_monitor else None
        payload = {"Schedule": {"AdjustForDST": timer.schedule.interval is None}, "ScheduleStatus": status,
                   "IsPastDue": past_due}
        inputs = client_inputs(timer.spec, self.client_payload())
        inputs[timer.spec.trigger.name] = _json_datum(payload)
        self.running += 1
        try:
            await self.invocations[timer.spec.name].call(inputs)
            log.info("Executed 'Functions.%s' (Succeeded, IsPastDue=%s)", timer.spec.name, past_due)
        except Exception as exc:  # a failing timer function is logged; the schedule goes on
            log.error("Executed 'Functions.%s' (Failed): %s: %s", timer.spec.name, type(exc).__name__, exc)
        finally:
            self.running -= 1
        self.fired += 1
        if timer.use_monitor:
            self._save_status(timer, occurrence, timer.next)


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def _json_datum(payload: dict[str, Any]) -> meta.Datum:
    return meta.Datum(type="json", value=json.dumps(payload))

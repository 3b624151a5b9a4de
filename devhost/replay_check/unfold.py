"""Rebuilds the exact history the SDK replays from the folded form a status answer shows (showHistory=true&
showHistoryOutput=true&showInput=true, docs/protocol.md §2): event types by name, no EventIds, no Orchestrator
Started/Completed markers, each TaskScheduled and SubOrchestrationInstanceCreated folded into its completion.

What the folded form does not tell, and how it is rebuilt (docs/versioning.md): event ids are given in the order
things were scheduled (their ScheduledTime or Timestamp), and things scheduled at the same instant, in one episode,
in the order the code schedules them, when that is a reordering of what was recorded; episodes start before each
run of incoming events, at the time of what they scheduled; a TimerFired answers the timer with its FireAt; the
execution id and the parent instance are not shown, so neither is known."""
from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from devhost.errors import DevhostError
from devhost.model import EventType, history_timestamp, parse_timestamp
from devhost.protocol import history_events as ev
from devhost.protocol.shim import Scheduled
from devhost.replay_check.recorded import Recorded

UNKNOWN_EXECUTION = "unknown-execution"  # the folded form hides ExecutionStarted's OrchestrationInstance
_SCHEDULING = frozenset({EventType.TaskScheduled, EventType.SubOrchestrationInstanceCreated,
                         EventType.TimerCreated, EventType.EventSent})
_FOLDED_INTO = {EventType.TaskCompleted: EventType.TaskScheduled, EventType.TaskFailed: EventType.TaskScheduled,
                EventType.SubOrchestrationInstanceCompleted: EventType.SubOrchestrationInstanceCreated,
                EventType.SubOrchestrationInstanceFailed: EventType.SubOrchestrationInstanceCreated}
_INCOMING = frozenset(_FOLDED_INTO) | {EventType.TimerFired, EventType.EventRaised, EventType.ExecutionSuspended,
                                       EventType.ExecutionResumed, EventType.ExecutionTerminated,
                                       EventType.GenericEvent}
_PARSED = ("Result",)  # shown parsed by showHistoryOutput; the SDK wants the JSON text back


class NotAStatus(DevhostError):
    """The JSON is not a status answer with its history."""


@dataclass
class _Item:
    """Something the orchestration scheduled: in place in the folded list, or folded into its completion."""

    kind: EventType
    at: datetime
    anchor: int  # index in the folded list: the event itself, or its completion
    name: str
    input: str | None
    extra: dict[str, Any]


def _time(text: Any, where: str) -> datetime:
    try:
        return parse_timestamp(str(text))
    except (ValueError, IndexError) as exc:
        raise NotAStatus(f"{where}: not a timestamp: {text!r}") from exc


def _kind(event: Any, where: str) -> EventType:
    name = event.get("EventType") if isinstance(event, dict) else None
    try:
        return EventType[name] if isinstance(name, str) else EventType(name)
    except (KeyError, ValueError) as exc:
        raise NotAStatus(f"{where}: unknown EventType {name!r}") from exc


class Unfolded:
    """One folded history and the exact one rebuilt from it, for a given order of what was scheduled together."""

    def __init__(self, status: dict[str, Any], where: str) -> None:
        self.folded: list[dict[str, Any]] = status["historyEvents"]
        self.kinds = [_kind(e, f"{where} event {i + 1}") for i, e in enumerate(self.folded)]
        self.items: list[_Item] = []
        for i, (e, kind) in enumerate(zip(self.folded, self.kinds)):
            if kind in _SCHEDULING:
                extra = {k: v for k, v in e.items() if k not in ("EventType", "Timestamp", "Name", "Input")}
                self.items.append(_Item(kind, _time(e.get("Timestamp"), where), i, str(e.get("Name") or ""),
                                        e.get("Input"), extra))
            elif kind in _FOLDED_INTO:
                self.items.append(_Item(_FOLDED_INTO[kind], _time(e.get("ScheduledTime") or e.get("Timestamp"),
                                                                  where), i, str(e.get("FunctionName") or ""),
                                        e.get("Input"), {}))
        self.by_anchor = {item.anchor: item for item in self.items}
        self.order = sorted(range(len(self.items)), key=lambda n: (self.items[n].at, self.items[n].anchor))
        self.fixed: set[datetime] = set()

    def events(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The exact history and, for each event, its 1-based position in the folded list (a scheduling event
        folded into its completion counts as the completion's)."""
        ids = {self.items[n].anchor: event_id for event_id, n in enumerate(self.order)}
        fires = self._timer_ids(ids)
        starts = self._episode_starts()
        out: list[dict[str, Any]] = []
        positions: list[int] = []
        for i, (e, kind) in enumerate(zip(self.folded, self.kinds)):
            if i in starts:
                out.append(ev.orchestrator_started(starts[i]))
                positions.append(i + 1)
            if kind in _FOLDED_INTO:
                out.append(self._scheduled(self.by_anchor[i], ids[i]))
                positions.append(i + 1)
            out.append(self._exact(e, kind, ids.get(i), fires.get(i)))
            positions.append(i + 1)
        return out, positions

    def _episode_starts(self) -> dict[int, datetime]:
        """Where an episode starts (before ExecutionStarted, and before an incoming event that follows what the
        code did, or that follows an incoming event with something scheduled between the two: that was scheduled
        by an episode in between) and at what time: that of the first thing it scheduled (or its completion) at or
        after the last incoming event of its run; that last time when nothing follows."""
        times = [_time(e.get("Timestamp"), "historyEvents") for e in self.folded]
        scheduled = sorted(item.at for item in self.items)
        scheduled += sorted(times[i] for i, kind in enumerate(self.kinds) if kind == EventType.ExecutionCompleted)
        scheduled.sort()
        firsts = []
        for i, kind in enumerate(self.kinds):
            after_code = i == 0 or self.kinds[i - 1] not in _INCOMING | {EventType.ExecutionStarted}
            if kind == EventType.ExecutionStarted or (kind in _INCOMING and (
                    after_code or _any_in(scheduled, times[i - 1], times[i]))):
                firsts.append(i)
        starts = {}
        for n, first in enumerate(firsts):
            end = firsts[n + 1] if n + 1 < len(firsts) else len(self.kinds)
            run = [first]
            while run[-1] + 1 < end and self.kinds[run[-1] + 1] in _INCOMING:
                run.append(run[-1] + 1)
            latest = max(times[i] for i in run)
            at = bisect.bisect_left(scheduled, latest)
            starts[first] = scheduled[at] if at < len(scheduled) else latest
        return starts

    def _timer_ids(self, ids: dict[int, int]) -> dict[int, int]:
        """The TimerId of each TimerFired: the earliest timer created with its FireAt that has not fired yet."""
        open_timers: list[tuple[int, str]] = []
        fires: dict[int, int] = {}
        for i, (e, kind) in enumerate(zip(self.folded, self.kinds)):
            if kind == EventType.TimerCreated:
                open_timers.append((ids[i], _same_instant(e.get("FireAt"))))
            elif kind == EventType.TimerFired:
                at = _same_instant(e.get("FireAt"))
                match = min((t for t in open_timers if t[1] == at), default=None) or min(open_timers, default=None)
                if match is not None:
                    open_timers.remove(match)
                    fires[i] = match[0]
        return fires

    @staticmethod
    def _scheduled(item: _Item, event_id: int) -> dict[str, Any]:
        if item.kind == EventType.TaskScheduled:
            return ev.task_scheduled(item.at, event_id, item.name, item.input)
        return ev.sub_orchestration_created(item.at, event_id, item.name, "", item.input)

    @staticmethod
    def _exact(e: dict[str, Any], kind: EventType, event_id: int | None, timer_id: int | None) -> dict[str, Any]:
        fields = {k: v for k, v in e.items() if k not in ("EventType", "FunctionName", "ScheduledTime")}
        for key in _PARSED:
            if key in fields:
                fields[key] = None if fields[key] is None else json.dumps(fields[key])
        if kind in _FOLDED_INTO:
            fields.pop("Input", None)
            fields["TaskScheduledId"] = event_id
        if kind == EventType.ExecutionStarted:
            fields["Name"] = e.get("FunctionName")
            fields.setdefault("OrchestrationInstance", {"InstanceId": "", "ExecutionId": UNKNOWN_EXECUTION})
            fields.setdefault("ParentInstance", None)
            fields.setdefault("Tags", None)
        if kind in (EventType.ExecutionStarted, EventType.TaskScheduled, EventType.SubOrchestrationInstanceCreated):
            fields.setdefault("Version", "")  # removed by the status answer; the SDK reads it
        if kind == EventType.TimerFired and timer_id is not None:
            fields["TimerId"] = timer_id
        return {"EventType": int(kind), "EventId": -1 if event_id is None or kind in _FOLDED_INTO else event_id,
                "IsPlayed": False, **fields}

    def reorder(self, event_id: int, code: dict[int, Scheduled]) -> bool:
        """After a replay disagreed at `event_id`: when that was scheduled at the same instant as others (one
        episode, whose order the folded form does not keep), put that batch in the order the code schedules it,
        matching kind and name (and input where it tells). True when the order changed; each batch is reordered
        once."""
        if not 0 <= event_id < len(self.order):
            return False
        at = self.items[self.order[event_id]].at
        batch = [pos for pos, n in enumerate(self.order) if self.items[n].at == at]
        if len(batch) < 2 or at in self.fixed:
            return False
        self.fixed.add(at)
        left = [self.order[pos] for pos in batch]
        chosen = []
        for pos in batch:
            wanted = code.get(pos)
            pick = None
            if wanted is not None:
                same = [n for n in left if self.items[n].kind == wanted.kind and
                        (self.items[n].name == wanted.name or wanted.kind in (EventType.TimerCreated,
                                                                              EventType.EventSent))]
                pick = next((n for n in same if self.items[n].input == wanted.input), same[0] if same else None)
            chosen.append(pick)
            if pick is not None:
                left.remove(pick)
        chosen = [n if n is not None else left.pop(0) for n in chosen]
        changed = chosen != [self.order[pos] for pos in batch]
        for pos, n in zip(batch, chosen):
            self.order[pos] = n
        return changed


def _any_in(ordered: list[datetime], start: datetime, end: datetime) -> bool:
    """Whether a sorted list has a time in [start, end)."""
    at = bisect.bisect_left(ordered, start)
    return at < len(ordered) and ordered[at] < end


def _same_instant(text: Any) -> str:
    try:
        return history_timestamp(parse_timestamp(str(text)))
    except (ValueError, IndexError):
        return str(text)


def from_status(status: Any, source: str) -> Recorded:
    """An exported status answer (one object) as a recorded history, rebuilt from its folded form."""
    if not isinstance(status, dict) or not isinstance(status.get("historyEvents"), list) or \
            not status.get("instanceId") or not status.get("name"):
        raise NotAStatus(f"{source}: not a status answer with its history (export it with showHistory=true&"
                         "showHistoryOutput=true&showInput=true)")
    unfolded = Unfolded(status, source)
    started = next((e for e in status["historyEvents"] if isinstance(e, dict) and
                    e.get("EventType") in ("ExecutionStarted", 0)), None)
    stored_input = started.get("Input") if started is not None and "Input" in started else \
        (None if status.get("input") is None else json.dumps(status.get("input")))
    events, positions = unfolded.events()
    return Recorded(source, str(status["instanceId"]), str(status["name"]), str(status.get("runtimeStatus") or ""),
                    UNKNOWN_EXECUTION, stored_input, None, events, positions, len(status["historyEvents"]),
                    rebuilt=unfolded)

"""Replays the app's current orchestrator code against a recorded history, without running any activity: the
app's functions are loaded in this process (as --in-process does), the orchestrator is called once with the
whole history, and the shim's ActionReplay matches its actions to the recorded events, as the extension would at
the instance's next replay. The verdict names the first recorded event the code no longer reproduces."""
from __future__ import annotations

import asyncio
import json
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from devhost.app.bindings import Invocation, memoize_sdk, returned, string_datum
from devhost.app.config import apply_values, load_config
from devhost.app.discovery import load_functions
from devhost.errors import DevhostError
from devhost.model import ActionType, EventType, RuntimeStatus, parse_timestamp
from devhost.protocol import engine
from devhost.protocol.shim import ActionReplay, NonDeterminism, Scheduled
from devhost.replay_check.recorded import Recorded


class MissingOrchestrator(DevhostError):
    """A recorded instance names an orchestrator the app no longer has: a usage error, not a divergence."""


@dataclass(frozen=True)
class Verdict:
    """The outcome for one instance: ok, or diverged at the 1-based event `at` of its source with what the
    history has there and what the code now does instead."""

    instance_id: str
    name: str
    events: int
    source: str
    at: int | None = None
    recorded: str = ""
    now: str = ""

    @property
    def ok(self) -> bool:
        return self.at is None

    def line(self) -> str:
        if self.ok:
            return f"ok {self.instance_id} {self.name} ({self.events} events)"
        return (f"diverged {self.instance_id} {self.name} at event {self.at}: the history has {self.recorded}, "
                f"the code now {self.now}")

    def as_json(self) -> dict[str, Any]:
        return {"instanceId": self.instance_id, "name": self.name, "events": self.events, "source": self.source,
                "ok": self.ok, "at": self.at, "recorded": self.recorded or None, "now": self.now or None}


class App:
    """The app's current code, loaded once: its orchestrators by name (any case, as the host finds them) and its
    activity names."""

    def __init__(self, script_root: str | Path) -> None:
        config = load_config(script_root)  # the app may read its settings at import, as under the host, whose
        apply_values(config, config.local_http_port or 7071)  # port func start would take (no server runs here)
        memoize_sdk()
        report = load_functions(script_root)
        functions = report.functions.values()
        self.orchestrators = {fn.spec.durable_name.lower(): Invocation(fn) for fn in functions
                              if fn.spec.kind == "orchestration"}
        self.activities = frozenset(fn.spec.durable_name for fn in functions if fn.spec.kind == "activity")
        self.skipped = report.skipped

    def missing(self, name: str) -> str | None:
        """Why the app cannot replay orchestrator `name`, or None when it can."""
        if name.lower() in self.orchestrators:
            return None
        reason = next((why for skipped, why in self.skipped if skipped.lower() == name.lower()), None)
        return f"orchestrator '{name}' " + (f"is not loaded: {reason}" if reason else "is not in the app")

    def run(self, name: str, context: str) -> tuple[dict[str, Any], str | None]:
        """Call the orchestrator once on a context: its OrchestratorState, and the failure text when it raised (the
        SDK then carries the state after $OutOfProcData$). A failure of the user's code is data."""
        invocation = self.orchestrators[name.lower()]
        inputs = {invocation.fn.spec.trigger.name: string_datum(context)}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the SDK's notes on replayed completions are not the check's output
                outputs = asyncio.run(invocation.call(inputs)) if invocation.is_async \
                    else invocation.call_sync(inputs)
        except Exception as exc:  # noqa: BLE001 - the orchestrator's failure is what the check reports
            error, state = engine.failure_details(str(exc))
            return state or {}, error
        datum = returned(invocation.fn, outputs)
        text = datum.value if datum is not None else None
        state = json.loads(text) if isinstance(text, str) else text
        return (state if isinstance(state, dict) else {}), None


def check(app: App, recorded: Recorded) -> Verdict:
    """Replay the recorded instance with the app's code. A history rebuilt from the folded form is retried with
    a batch put in the code's order when the first disagreement lies in a batch the folded form did not order."""
    reason = app.missing(recorded.name)
    if reason is not None:
        raise MissingOrchestrator(f"{recorded.source}: instance {recorded.instance_id}: {reason}")
    while True:
        verdict, disagreement = _replay(app, recorded)
        if disagreement is None or recorded.rebuilt is None:
            return verdict
        event_id, code = disagreement
        if not recorded.rebuilt.reorder(event_id, code):
            return verdict
        recorded.events, recorded.positions = recorded.rebuilt.events()


_WORDS = {EventType.TaskScheduled: "activity", EventType.SubOrchestrationInstanceCreated: "sub-orchestration"}


def _ended(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events the code is answerable for: up to a termination, which is no decision of the code's."""
    for i, e in enumerate(history):
        if e["EventType"] == EventType.ExecutionTerminated:
            return history[:i]
    return history


def _replay(app: App, rec: Recorded) -> tuple[Verdict, tuple[int, dict[int, Scheduled]] | None]:
    history = _ended(rec.events)
    ok = Verdict(rec.instance_id, rec.name, rec.count, rec.source)
    if not any(e["EventType"] == EventType.ExecutionStarted for e in history):
        return ok, None  # not started: nothing recorded to replay
    now = _last_time(history)
    episode = engine.Episode(rec.instance_id, rec.execution_id, rec.name, RuntimeStatus.Running, history, [], [],
                             True, RuntimeStatus.Running, now)
    state, error = app.run(rec.name, episode.context_json(rec.input, rec.parent_instance_id))
    actions = [a for group in state.get("actions") or [] for a in group]
    replay = ActionReplay(rec.execution_id, actions, now)  # a renamed activity shows where it was recorded
    try:
        replay.replay(history)
    except NonDeterminism as exc:
        at = _position(rec, exc.event)
        recorded = _recorded(exc.event) if exc.event is not None else str(exc)
        doing = _scheduling(exc.scheduled) if exc.scheduled is not None else _doing(replay, state, error)
        event_id = exc.event.get("EventId", -1) if exc.event is not None else -1
        code = dict(replay.scheduled)
        if exc.scheduled is not None:
            code[event_id] = exc.scheduled
        return _diverged(ok, at, recorded, doing), (event_id, code)
    lacking = sorted({item.name for item in replay.scheduled.values()
                      if item.kind == EventType.TaskScheduled and item.name not in app.activities})
    if lacking:
        return _diverged(ok, rec.positions[-1] if rec.positions else 0, "nothing after it",
                         f"calls activity '{lacking[0]}', which the app lacks"), None
    return _compare_end(ok, rec, history, replay, state, error), None


def _compare_end(ok: Verdict, rec: Recorded, history: list[dict[str, Any]], replay: ActionReplay,
                 state: dict[str, Any], error: str | None) -> Verdict:
    """Every recorded step reproduced: the end must be too. A finished history's ending (completed, failed,
    continued as new) is a decision of the code's; an unfinished one may be followed by anything new, but not by a
    failure given exactly what was recorded."""
    doing = _doing(replay, state, error, ending=True)
    end = next((e for e in history if e["EventType"] == EventType.ExecutionCompleted), None)
    if end is None:
        if error is not None:
            return _diverged(ok, rec.positions[-1] if rec.positions else 0, "the instance running on", doing)
        return ok
    status = end.get("OrchestrationStatus")
    expected = {RuntimeStatus.Completed.value: "completes", RuntimeStatus.Failed.value: "fails",
                RuntimeStatus.ContinuedAsNew.value: "continues as new"}.get(status)
    if expected is None or doing.startswith(expected):
        return ok
    return _diverged(ok, _position(rec, end), f"the orchestration {_ending_words(status)}", doing)


def _ending_words(status: str | None) -> str:
    return {"Completed": "completed", "Failed": "failed", "ContinuedAsNew": "continued as new"}.get(
        status or "", str(status))


def _diverged(ok: Verdict, at: int, recorded: str, now: str) -> Verdict:
    return Verdict(ok.instance_id, ok.name, ok.events, ok.source, at, recorded, now)


def _position(rec: Recorded, event: dict[str, Any] | None) -> int:
    for i, e in enumerate(rec.events):
        if e is event:
            return rec.positions[i]
    return rec.positions[-1] if rec.positions else 0


def _last_time(history: list[dict[str, Any]]) -> datetime:
    for e in reversed(history):
        try:
            return parse_timestamp(e["Timestamp"])
        except (KeyError, ValueError):
            continue
    return datetime.now(timezone.utc)


def _recorded(event: dict[str, Any]) -> str:
    """A recorded scheduling event in words: what it did, its Durable event type and its event id."""
    kind = EventType(event["EventType"])
    name, event_id = event.get("Name") or "", event.get("EventId")
    if kind == EventType.TimerCreated:
        what = f"a durable timer until {event.get('FireAt')}"
    elif kind == EventType.EventSent:
        what = f"an event '{name}' sent to {event.get('InstanceId')}"
    else:
        what = f"{_WORDS[kind]} '{name}'"
    return f"{what} ({kind.name}, event id {event_id})"


def _scheduling(item: Scheduled) -> str:
    """What the code schedules at a recorded event's id, in words."""
    if item.kind == EventType.TaskScheduled:
        return f"calls activity '{item.name}'"
    if item.kind == EventType.SubOrchestrationInstanceCreated:
        return f"calls sub-orchestration '{item.name}'"
    if item.kind == EventType.TimerCreated:
        return "creates a durable timer"
    return f"sends an event '{item.name}' to {item.instance_id}"


def _waiting_for(action: dict[str, Any]) -> str:
    kind = action.get("actionType")
    if kind == ActionType.WaitForExternalEvent:
        return f"waits for event '{action.get('externalEventName')}'"
    if kind == ActionType.CreateTimer:
        return "waits for a durable timer"
    if kind in (ActionType.CallActivity, ActionType.CallActivityWithRetry):
        return f"waits for activity '{action.get('functionName')}'"
    if kind in (ActionType.CallSubOrchestrator, ActionType.CallSubOrchestratorWithRetry):
        return f"waits for sub-orchestration '{action.get('functionName')}'"
    if kind == ActionType.CallEntity:
        return f"waits for entity {action.get('instanceId')} ('{action.get('operation')}')"
    if kind in (ActionType.WhenAll, ActionType.WhenAny):
        inner = [_waiting_for(a).removeprefix("waits for ") for a in action.get("compoundActions") or []]
        return f"waits for {'all' if kind == ActionType.WhenAll else 'any'} of: {', '.join(inner) or 'nothing'}"
    return f"waits on action {kind}"


def _doing(replay: ActionReplay, state: dict[str, Any], error: str | None, ending: bool = False) -> str:
    """What the code does where the history goes on (or, `ending`, where it ends): waits on its last action,
    schedules something new, or ends (and how)."""
    if replay.continue_as_new is not None:
        return "continues as new"
    if replay.current is not None and not replay.current.done and replay.cursor > 0:
        if ending and replay.scheduled:
            return f"goes on: it {_scheduling(replay.scheduled[min(replay.scheduled)])}"
        waits = _waiting_for(replay.actions[replay.cursor - 1])
        return f"goes on: it {waits}" if ending else f"schedules nothing there: it {waits}"
    if error is not None:
        return f"fails: {error.strip().splitlines()[0] if error.strip() else 'an error'}"
    if state.get("isDone"):
        return f"completes with output {json.dumps(state.get('output'))[:80]}"
    return "schedules nothing more"

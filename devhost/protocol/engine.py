"""The replay engine: a pure function from an instance's history, its new messages and the orchestrator's
OrchestratorState to the outcome of the episode (new history, new work, status). No I/O, no clock, no database.
How actions are matched to history is the shim's (shim.py); what they become is decided here."""
from __future__ import annotations

import json
import operator
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from devhost import jsontext
from devhost.model import (
    DEFAULT_MAX_ACTIONS,
    ENTITY_REQUEST,
    TERMINAL_STATUSES,
    ActionType,
    EpisodeOutcome,
    EventType,
    NewInstance,
    OutgoingMessage,
    RuntimeStatus,
    ScheduledActivity,
    history_timestamp,
)
from devhost.protocol import history_events as ev
from devhost.protocol.kept_replays import KeptReplays
from devhost.protocol.shim import ActionReplay, NonDeterminism, Scheduled, UnknownFunction

OUT_OF_PROC_MARKER = "$OutOfProcData$:"
CONTEXT_CONSTANTS = {
    "upperSchemaVersion": 1,  # with upperSchemaVersionNew these select the SDK's replay schema V3
    "upperSchemaVersionNew": 2,
    "longRunningTimerIntervalDuration": "3.00:00:00",
    "maximumShortTimerDuration": "6.00:00:00",
    "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
}


def orchestrator_input(stored: str | None) -> Any:
    """The `input` of the orchestration context: the stored JSON parsed, as the extension passes it. The SDK
    client's double-encoded input is a JSON string here, which get_input() decodes; an object arrives as an object.
    (A bare number or list started through the webhook cannot be decoded by get_input(), in Azure as here.)"""
    return jsontext.shown(stored)


@dataclass
class Episode:
    """What an episode starts from: the history so far and the inbox messages it consumes."""

    instance_id: str
    execution_id: str
    name: str
    status: RuntimeStatus
    history: list[dict[str, Any]]          # events of the current execution, already committed
    new_events: list[dict[str, Any]]       # OrchestratorStarted + the consumed messages, in order
    consumed: list[int]                    # message ids taken out of the inbox
    run_code: bool                         # False when nothing the orchestrator code waits for arrived
    status_after_messages: RuntimeStatus   # after Suspended/Resumed/Terminated messages
    now: datetime                          # the episode's OrchestratorStarted time: the engine reads no clock
    terminated_reason: str | None = None
    history_texts: list[str] | None = None  # each history event's stored JSON text, when the store gave them

    def context_json(self, stored_input: str | None, parent_instance_id: str | None) -> str:
        """The orchestration trigger's context JSON (docs/protocol.md §4.1), with the instance's input as stored.
        Old events are played (IsPlayed true), new ones not. Joined from the old events' stored texts when they are
        what the context needs as they are (so an episode does not encode its whole history again: a sequential
        orchestration would cost the square of its length); else each old event is encoded here."""
        rest = json.dumps({"input": orchestrator_input(stored_input), "instanceId": self.instance_id,
                           "isReplaying": bool(self.history), "parentInstanceId": parent_instance_id,
                           **CONTEXT_CONSTANTS})
        new = [json.dumps(dict(e, IsPlayed=False)) for e in self.new_events]  # a TimerFired, never a TimerCreated
        events = ",".join(([self._played_text()] if self.history else []) + new)
        return f'{{"history":[{events}],{rest[1:]}'

    def _played_text(self) -> str:
        """The old events as the context gives them, comma-separated."""
        texts = self.history_texts
        if texts is not None and len(texts) == len(self.history):
            joined = ",".join(texts)
            # Stored texts are played and carry no devhost field but a retry timer's. A key's quotes are escaped
            # inside a JSON string, so searching the text finds each event's own keys (and at worst a string equal
            # to a key's name: then each event is encoded, as before).
            if joined.count(_PLAYED) == len(texts) and _RETRY_KEY not in joined:
                return joined
        return ",".join(json.dumps(dict(e, IsPlayed=True) if ev.RETRY_OF not in e
                                   else dict(ev.without_devhost_fields(e), IsPlayed=True)) for e in self.history)


_PLAYED, _RETRY_KEY = '"IsPlayed":true', f'"{ev.RETRY_OF}"'


_KIND = operator.itemgetter("EventType")
_STEERING = (EventType.ExecutionSuspended, EventType.ExecutionResumed)
_CODE_EVENTS = {EventType.ExecutionStarted, EventType.TaskCompleted, EventType.TaskFailed,
                EventType.SubOrchestrationInstanceCompleted, EventType.SubOrchestrationInstanceFailed,
                EventType.TimerFired, EventType.EventRaised, EventType.GenericEvent}


def _suspended_in(history: list[dict[str, Any]]) -> bool:
    """Whether the last suspend or resume in `history` is a suspend."""
    if EventType.ExecutionSuspended not in map(_KIND, history):  # the usual answer, without a loop in Python per event
        return False
    return next(e["EventType"] for e in reversed(history) if e["EventType"] in _STEERING) == \
        EventType.ExecutionSuspended


def prepare(instance_id: str, execution_id: str, name: str, status: RuntimeStatus,
            history: list[dict[str, Any]], messages: list[tuple[int, dict[str, Any]]], now: datetime,
            history_texts: list[str] | None = None) -> Episode:
    """Sort an inbox into what this episode consumes: suspension holds back everything but resume and terminate.
    `history_texts`: each history event's stored JSON text, which the context is joined from."""
    suspended = _suspended_in(history)
    new_events: list[dict[str, Any]] = [ev.orchestrator_started(now)]
    consumed: list[int] = []
    held: list[tuple[int, dict[str, Any]]] = []
    terminated: str | None = None
    run_code = False
    started = bool(history)
    for msg_id, event in messages:
        kind = event["EventType"]
        if kind == EventType.ExecutionTerminated:
            consumed.append(msg_id)
            new_events.append(event)
            terminated = event.get("Input") or ""
            break
        if kind == EventType.ExecutionSuspended:
            consumed.append(msg_id)
            if not suspended:
                suspended = True
                new_events.append(event)
            continue
        if kind == EventType.ExecutionResumed:
            consumed.append(msg_id)
            if suspended:
                suspended = False
                new_events.append(event)
                for held_id, held_event in held:  # events raised while suspended are delivered on resume
                    consumed.append(held_id)
                    new_events.append(held_event)
                    run_code = True
                    started = started or held_event["EventType"] == EventType.ExecutionStarted
                held = []
            continue
        if suspended:
            held.append((msg_id, event))
            continue
        if kind == EventType.ExecutionStarted and history:
            consumed.append(msg_id)  # a duplicate start of a running execution is dropped
            continue
        consumed.append(msg_id)
        new_events.append(event)
        started = started or kind == EventType.ExecutionStarted
        run_code = run_code or kind in _CODE_EVENTS
    if terminated is not None:
        current = RuntimeStatus.Terminated
    elif suspended:
        current = RuntimeStatus.Suspended
    else:
        current = RuntimeStatus.Running if started else RuntimeStatus.Pending
    return Episode(instance_id, execution_id, name, status, history, new_events, consumed,
                   run_code=run_code and started and terminated is None, status_after_messages=current, now=now,
                   terminated_reason=terminated, history_texts=history_texts)


def failure_details(result_text: str) -> tuple[str, dict[str, Any] | None]:
    """Split an orchestrator exception text into the error and the OrchestratorState after $OutOfProcData$."""
    if OUT_OF_PROC_MARKER in result_text:
        _, _, data = result_text.partition(OUT_OF_PROC_MARKER)
        try:
            state = json.loads(data)
        except ValueError:
            return result_text, None
        return str(state.get("error") or result_text.split("\n\n" + OUT_OF_PROC_MARKER)[0]), state
    return result_text, None


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _stored_input(action_input: str | None) -> str | None:
    """The input of a new execution (sub-orchestration, continue-as-new) as the extension stores it: the action's
    `input` is JSON text, which the shim takes as a string and serializes again (the double encoding of
    docs/protocol.md §2.1); the context's `input` decodes it once, so the SDK's get_input gets the JSON text back."""
    return None if action_input is None else json.dumps(action_input)


def decide(episode: Episode, result: dict[str, Any] | None, error: str | None, parent: dict[str, Any] | None,
           activities: frozenset[str] | None = None,
           child_statuses: Callable[[list[str]], dict[str, RuntimeStatus]] = lambda ids: {},
           next_execution_id: Callable[[], str] | None = None, replays: KeptReplays | None = None,
           max_actions: int = DEFAULT_MAX_ACTIONS) -> EpisodeOutcome:
    """Apply an OrchestratorState (or an orchestrator failure) to the episode: docs/protocol.md §4.3. The outcome is
    what the store commits as one transaction. `activities` names the app's activity functions (None: don't check);
    `child_statuses` reads the stored statuses of the sub-orchestration ids the episode would create (an id in use
    by an unfinished instance is refused); `next_execution_id` names a continued-as-new execution; `replays` keeps
    the shim's replay of the actions from one episode to the next (None: replay from the start every time);
    `max_actions` is host.json's durableTask.maxOrchestrationActions."""
    outcome = _decide(episode, result, error, parent, activities, next_execution_id or _random_id, replays,
                      max_actions)
    if replays is not None and (outcome.status in TERMINAL_STATUSES or outcome.continue_as_new is not None):
        replays.forget(episode.instance_id)
    if outcome.new_instances:
        _refuse_taken_children(outcome, episode, child_statuses([n.instance_id for n in outcome.new_instances]))
    outcome.consumed = [i for i in episode.consumed if i > 0]  # inbox ids; a carried result's is negative
    return outcome


def _random_id() -> str:
    return uuid.uuid4().hex


def _next_execution(episode: Episode, new_input: str | None, parent: dict[str, Any] | None,
                    new_id: Callable[[], str]) -> NewInstance:
    """The next execution's start after continue-as-new: a new execution id, the new input, the same parent."""
    execution_id = new_id()
    parent_id = ((parent or {}).get("OrchestrationInstance") or {}).get("InstanceId")
    started = ev.execution_started(episode.now, episode.instance_id, execution_id, episode.name, new_input, parent)
    return NewInstance(episode.instance_id, episode.name, execution_id, new_input, parent_id, started)


MAX_CUSTOM_STATUS_KB = 16
# The actions the extension's DurableOrchestrationContext counts (IncrementActionsOrThrowException): each scheduled
# call, timer and entity message; waiting for an event, continue-as-new and the task_all/task_any groups do not.
_COUNTED = frozenset({ActionType.CallActivity, ActionType.CallActivityWithRetry, ActionType.CallSubOrchestrator,
                      ActionType.CallSubOrchestratorWithRetry, ActionType.CreateTimer, ActionType.CallEntity,
                      ActionType.CallHttp, ActionType.SignalEntity, ActionType.ScheduledSignalEntity})


def too_many_actions(actions: list[dict[str, Any]], max_actions: int) -> str | None:
    """The extension's refusal once an episode's replay asks for more than maxOrchestrationActions counted actions
    (the count starts again with every episode, as the shim replays the whole OrchestratorState); None within it."""
    if _counted(actions) <= max_actions:
        return None
    return (f"Maximum amount of orchestration actions ({max_actions}) has been reached. "
            "This value can be configured in host.json file as MaxOrchestrationActions.")


def _counted(actions: list[dict[str, Any]]) -> int:
    """The counted actions, those inside a task_all or task_any included (the shim replays each of them)."""
    return sum(_counted(a.get("compoundActions") or []) + int(a.get("actionType") in _COUNTED) for a in actions)


def custom_status_too_big(value: Any) -> str | None:
    """The extension's refusal of a custom status over 16 KB, measured as its compact JSON in UTF-16 (the
    MessagePayloadDataConverter.Serialize that DurableOrchestrationContext.SetCustomStatus calls); None when it fits."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    size_kb = len(text.encode("utf-16-le")) // 1024
    if size_kb <= MAX_CUSTOM_STATUS_KB:
        return None
    return (f"The UTF-16 size of the JSON-serialized payload must not exceed {MAX_CUSTOM_STATUS_KB:,} KB. "
            f"The current payload size is {size_kb:,} KB.")


def _custom(outcome: EpisodeOutcome, state: dict[str, Any]) -> EpisodeOutcome:
    """The OrchestratorState's customStatus, when it has one, set as JSON text; else the stored one stays."""
    if "customStatus" in state:
        outcome.custom_status = json.dumps(state["customStatus"])
        outcome.set_custom_status = True
    return outcome


def _decide(episode: Episode, result: dict[str, Any] | None, error: str | None, parent: dict[str, Any] | None,
            activities: frozenset[str] | None, next_execution_id: Callable[[], str],
            replays: KeptReplays | None, max_actions: int) -> EpisodeOutcome:
    now = episode.now
    history = list(episode.new_events)
    if episode.terminated_reason is not None:  # prepare sets it ("" without a reason) for any terminate
        reason = episode.terminated_reason
        history.append(ev.execution_completed(now, RuntimeStatus.Terminated.value, _json_text(reason)))
        history.append(ev.orchestrator_completed(now))
        return _finish(episode, history, RuntimeStatus.Terminated, _json_text(reason), parent, now,
                       failure=f"Orchestration terminated: {reason}")
    if not episode.run_code:
        history.append(ev.orchestrator_completed(now))
        return EpisodeOutcome(history=history, status=episode.status_after_messages)

    state = result or {}
    if error is None and "actions" not in state:
        error = "The orchestrator returned no OrchestratorState: is it created with df.Orchestrator.create?"
    if error is not None:
        return _custom(_fail(episode, history, error, parent, now), state)
    too_big = custom_status_too_big(state.get("customStatus"))
    if too_big is not None:  # the shim sets the custom status before it replays the actions
        return _fail(episode, history, too_big, parent, now)

    actions = [a for group in state.get("actions") or [] for a in group]
    too_many = too_many_actions(actions, max_actions)
    if too_many is not None:  # thrown while the shim replays the actions, after the custom status is set
        return _custom(_fail(episode, history, too_many, parent, now), state)
    try:
        if replays is None:
            replay = ActionReplay(episode.execution_id, actions, now, activities)
            replay.replay(episode.history + episode.new_events)
        else:
            replay = replays.replay(episode.instance_id, episode.execution_id, actions, now, activities,
                                    episode.history, episode.new_events)
    except NonDeterminism as exc:
        return _custom(_fail(episode, history, f"Non-Deterministic workflow detected: {exc}", parent, now), state)
    except UnknownFunction as exc:
        return _custom(_fail(episode, history, str(exc), parent, now), state)

    # A suspension that arrived in this batch after the events the code ran on still holds: the instance shows
    # Suspended (else resume is refused and the held events are never delivered).
    running = RuntimeStatus.Suspended if episode.status_after_messages == RuntimeStatus.Suspended \
        else RuntimeStatus.Running
    outcome = _custom(EpisodeOutcome(history=history, status=running), state)
    for event_id in sorted(replay.scheduled):
        _schedule_new(outcome, episode, event_id, replay.scheduled[event_id], now)

    if replay.continue_as_new is not None:
        new_input = _stored_input(replay.continue_as_new[0])
        history.append(ev.execution_completed(now, RuntimeStatus.ContinuedAsNew.value, new_input))
        history.append(ev.orchestrator_completed(now))
        outcome.status = RuntimeStatus.ContinuedAsNew
        outcome.continue_as_new = _next_execution(episode, new_input, parent, next_execution_id)
        outcome.activities = []  # work of an ended execution is dropped; signals still go out
        return outcome
    if state.get("isDone") and not replay.open_ids:
        output = _json_text(state.get("output"))
        history.append(ev.execution_completed(now, RuntimeStatus.Completed.value, output))
        history.append(ev.orchestrator_completed(now))
        done = _custom(_finish(episode, history, RuntimeStatus.Completed, output, parent, now), state)
        done.messages = outcome.messages + done.messages
        return done
    history.append(ev.orchestrator_completed(now))
    if running == RuntimeStatus.Running:
        # Done but for open tasks (docs/protocol.md §4.3): only the last of them to complete matters.
        outcome.awaits = frozenset(replay.open_ids) if state.get("isDone") else replay.awaited_all()
    return outcome


def _schedule_new(outcome: EpisodeOutcome, episode: Episode, event_id: int, item: Scheduled, now: datetime) -> None:
    """Turn a frontier action into its history event and the work that carries it out."""
    me = episode.instance_id
    if item.kind == EventType.TaskScheduled:
        outcome.history.append(ev.task_scheduled(now, event_id, item.name, item.input))
        outcome.activities.append(ScheduledActivity(event_id, item.name, item.input))
    elif item.kind == EventType.TimerCreated:
        fire_at = item.fire_at or now
        stamp = history_timestamp(fire_at)
        outcome.history.append(ev.timer_created(now, event_id, stamp, item.retry_of, item.retry_last))
        if not item.cancelled:  # stamped now, as DurableTask.Core makes its TimerFiredEvent with the timer
            fired = dict(ev.timer_fired(now, event_id, stamp), ExecutionId=episode.execution_id)
            outcome.messages.append(OutgoingMessage(me, fired, fire_at.timestamp()))
    elif item.kind == EventType.SubOrchestrationInstanceCreated:
        child = item.instance_id  # the shim names every child (its default id: "<execution id>:<event id>")
        child_input = _stored_input(item.input)
        outcome.history.append(ev.sub_orchestration_created(now, event_id, item.name, child, child_input))
        parent = {"Name": episode.name, "Version": "", "TaskScheduleId": event_id,
                  "OrchestrationInstance": {"InstanceId": me, "ExecutionId": episode.execution_id}}
        execution_id = uuid.uuid5(uuid.NAMESPACE_OID, f"{episode.execution_id}/{event_id}").hex
        started = ev.execution_started(now, child, execution_id, item.name, child_input, parent)
        outcome.new_instances.append(NewInstance(child, item.name, execution_id, child_input, me, started))
    elif item.kind == EventType.EventSent:
        request = json.loads(item.input)  # the shim's request: {"id", "op", "signal", "input", ...}
        if not request.get("signal"):  # a call names its caller, to be answered
            request["parent"] = me
            request["parentExecution"] = episode.execution_id
        text = json.dumps(request)
        target = item.instance_id  # the entity (the shim reads the action's instanceId)
        # An entity request travels as the event "op", the name the extension gives it (its RequestMessage).
        name = ENTITY_REQUEST if target.startswith("@") else item.name
        outcome.history.append(ev.event_sent(now, event_id, target, name, text))
        at = item.fire_at.timestamp() if item.fire_at else 0.0
        outcome.messages.append(OutgoingMessage(target, ev.event_raised(now, name, text), at))


def _fail(episode: Episode, history: list[dict[str, Any]], error: str, parent: dict[str, Any] | None,
          now: datetime) -> EpisodeOutcome:
    output = f"Orchestrator function '{episode.name}' failed: {error}"
    history.append(ev.execution_completed(now, RuntimeStatus.Failed.value, json.dumps(output)))
    history.append(ev.orchestrator_completed(now))
    return _finish(episode, history, RuntimeStatus.Failed, json.dumps(output), parent, now, failure=output)


def _finish(episode: Episode, history: list[dict[str, Any]], status: RuntimeStatus, output: str | None,
            parent: dict[str, Any] | None, now: datetime, failure: str | None = None) -> EpisodeOutcome:
    """A terminal outcome; a sub-orchestration also tells its parent."""
    outcome = EpisodeOutcome(history=history, status=status, output=output)
    if parent:
        task_id = parent["TaskScheduleId"]
        target = parent["OrchestrationInstance"]  # as _schedule_new wrote it in the child's ExecutionStarted
        if status == RuntimeStatus.Completed:
            reply = ev.sub_orchestration_completed(now, task_id, output)
        else:  # Failed and Terminated always say why
            reply = ev.sub_orchestration_failed(now, task_id, failure, "")
        reply["ExecutionId"] = target["ExecutionId"]
        outcome.messages.append(OutgoingMessage(target["InstanceId"], reply))
    return outcome


def _refuse_taken_children(outcome: EpisodeOutcome, episode: Episode, taken: dict[str, RuntimeStatus]) -> None:
    """A sub-orchestration whose instance id is in use by an unfinished instance (`taken`: the statuses of the
    children's ids as stored) is not created: its task fails with the extension's message, through the parent's
    own inbox, while the rest of the episode stands. Two children of one episode with the same id: the second
    finds the first Pending."""
    taken = dict(taken)
    created, refusals = [], []
    for new in outcome.new_instances:
        status = taken.get(new.instance_id)
        if status is not None and status not in TERMINAL_STATUSES:
            task_id = new.started["ParentInstance"]["TaskScheduleId"]
            reason = f"An Orchestration instance with the status {status.value} already exists."
            reply = dict(ev.sub_orchestration_failed(episode.now, task_id, reason, None),
                         ExecutionId=episode.execution_id)
            refusals.append(OutgoingMessage(episode.instance_id, reply))
            continue
        taken[new.instance_id] = RuntimeStatus.Pending
        created.append(new)
    outcome.new_instances = created
    outcome.messages = outcome.messages + refusals


def parent_of(history: list[dict[str, Any]], new_events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ParentInstance of the execution's ExecutionStarted, if any."""
    # ExecutionStarted is the second event of an execution (after OrchestratorStarted): the scan stops at once.
    return next((e.get("ParentInstance") for e in history + new_events
                 if e["EventType"] == EventType.ExecutionStarted), None)

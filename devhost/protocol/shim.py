"""The extension's out-of-proc shim, replayed: an OrchestratorState's actions are run in order against the
history, as OutOfProcOrchestrationShim does it: each action awaited before the next, every scheduling call taking
the next event id, completions in history order resuming what waits on them. What is scheduled and not yet in
history is the frontier; an action that disagrees with history is non-determinism. Pure: no I/O, no clock."""
from __future__ import annotations

import json
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from devhost.model import ENTITY_REQUEST, HTTP_ACTIVITY_NAME, ActionType, EventType, parse_timestamp
from devhost.protocol.failures import unknown_activity


class NonDeterminism(Exception):
    """The orchestrator's actions on replay disagree with its recorded history: `event` is the recorded event that
    disagrees, `scheduled` what the code scheduled at its event id (None: nothing), for a replay check to name both."""

    def __init__(self, message: str, event: dict[str, Any] | None = None,
                 scheduled: "Scheduled | None" = None) -> None:
        super().__init__(message)
        self.event = event
        self.scheduled = scheduled


class UnknownFunction(Exception):
    """An action names an activity the app does not have: the host fails the orchestration."""


@dataclass
class Scheduled:
    kind: EventType  # TaskScheduled, SubOrchestrationInstanceCreated, TimerCreated, EventSent
    name: str
    input: str | None = None
    instance_id: str | None = None  # sub-orchestration or entity target
    fire_at: datetime | None = None
    cancelled: bool = False
    retry_of: int | None = None  # a retry's timer: the event id of the failed attempt it follows
    retry_last: bool = False  # ... and it follows the last attempt


class _Node:
    """A .NET-side task of the shim's replay: done once, then its listeners run."""

    __slots__ = ("done", "failed", "listeners", "awaits", "call_id")

    def __init__(self) -> None:
        self.done = False
        self.failed = False
        self.listeners: list[Callable[[_Node], None]] = []
        self.awaits: list[_Node] | None = None  # a WhenAll of calls (with retries or not): its children
        self.call_id: int | None = None  # a call: the event id whose success completes it (a retry's current one)

    def finish(self, failed: bool) -> None:
        if self.done:
            return
        self.done, self.failed = True, failed
        listeners, self.listeners = self.listeners, []
        for listener in listeners:
            listener(self)

    def then(self, listener: Callable[[_Node], None]) -> None:
        if self.done:
            listener(self)
        else:
            self.listeners.append(listener)


_CALLS = frozenset({ActionType.CallActivity, ActionType.CallSubOrchestrator, ActionType.CallHttp,
                    ActionType.CallActivityWithRetry, ActionType.CallSubOrchestratorWithRetry})
# The .NET action each kind of scheduled task is, as DurableTask.Core's messages name it (GetType().Name).
_ACTION_NAMES = {EventType.TaskScheduled: "ScheduleTaskOrchestratorAction",
                 EventType.SubOrchestrationInstanceCreated: "CreateSubOrchestrationAction",
                 EventType.TimerCreated: "CreateTimerOrchestratorAction",
                 EventType.EventSent: "SendEventOrchestratorAction"}
_CHANGED = "Was a change made to the orchestrator code after this instance had already started running?"


def non_determinism_text(event: dict[str, Any], item: "Scheduled | None") -> str:
    """The words of DurableTask.Core's TaskOrchestrationContext (Handle<Kind>Event) for a recorded event that the
    replay did not schedule (`item` None), scheduled as another kind of action, or under another name; its
    NonDeterministicOrchestrationException puts "Non-Deterministic workflow detected: " before them. Kept as
    written there, double space and missing ones included."""
    event_id, kind, name = event["EventId"], EventType(event["EventType"]), event.get("Name") or ""
    version, target = event.get("Version") or "", event.get("InstanceId") or ""
    action = None if item is None else _ACTION_NAMES[item.kind]
    if kind == EventType.TimerCreated:
        head = f"A previous execution of this orchestration scheduled a timer task with sequence number {event_id}"
        if item is None:
            return f"{head} but the current replay execution hasn't (yet?) scheduled this task. {_CHANGED}"
        return (f"{head} named but the current orchestration replay instead produced a {action} action with this "
                f"sequence number. {_CHANGED}")
    if kind == EventType.TaskScheduled:
        head = "A previous execution of this orchestration scheduled an activity task with sequence"
        if item is None:
            return (f"{head} ID {event_id} and name '{name}' (version '{version}'), but the current replay execution "
                    f"hasn't (yet?) scheduled this task. {_CHANGED}")
        if item.kind != kind:
            return (f"{head} number {event_id} named '{name}', but the current orchestration replay instead produced "
                    f"a {action} action with this sequence number. {_CHANGED}")
        return (f"{head} number {event_id} named '{name}', but the current orchestration replay instead scheduled an "
                f"activity task named '{item.name}' with this sequence number.  {_CHANGED}")
    if kind == EventType.SubOrchestrationInstanceCreated:
        head = (f"A previous execution of this orchestration scheduled a sub-orchestration task with sequence ID "
                f"{event_id} and name '{name}' (version '{version}', instance ID '{target}'), but the current")
        if item is None:
            return f"{head} replay execution hasn't (yet?) scheduled this task. {_CHANGED}"
        if item.kind != kind:
            return f"{head} orchestration replay instead produced a {action} action at this sequence number. {_CHANGED}"
        return (f"{head} orchestration replay instead scheduled a sub-orchestration task with name {item.name} at this "
                f"sequence number. {_CHANGED}")
    head = f"A previous execution of this orchestration scheduled a send event task with sequence ID {event_id},"
    if item is None:
        return (f"{head} type 'EventSent' name '{name}', instance ID '{target}', but the current replay execution "
                f"hasn't (yet?) scheduled this task. {_CHANGED}")
    if item.kind != kind:
        return (f"{head} type 'EventSent', name '{name}', instance ID '{target}', but the current orchestration "
                f"replay instead scheduled a {action} task at this sequence number. {_CHANGED}")
    return (f"{head} type 'EventSent', name '{name}', instance ID '{target}'), but the current orchestration replay "
            f"instead scheduled a send event task with name {item.name}at this sequence number. {_CHANGED}")


class ActionReplay:
    """Replays the action list against history as the extension's out-of-proc shim does: actions run in order,
    each awaited before the next; every scheduling call takes the next event id; completions in history
    order resume the waiting tasks."""

    def __init__(self, execution_id: str, actions: list[dict[str, Any]], now: datetime,
                 activities: frozenset[str] | None = None) -> None:
        self.execution_id = execution_id
        self.known_activities = activities
        # the extension's FunctionName compares names ignoring case: "Activity1" calls the function activity1
        self.known_lower = None if activities is None else frozenset(n.lower() for n in activities)
        self.actions = actions
        self.cursor = 0
        self.now = now
        self.next_id = 0
        self.scheduled: dict[int, Scheduled] = {}
        self.waiting: dict[int, _Node] = {}
        self.open_ids: set[int] = set()
        self.event_waiters: dict[str, deque[_Node]] = defaultdict(deque)
        self.early_events: dict[str, int] = defaultdict(int)
        self.continue_as_new: tuple[str | None] | None = None
        self.current: _Node | None = None  # the node of the last action invoked

    # -- the orchestrator side ------------------------------------------------------------
    def advance(self) -> None:
        while self.cursor < len(self.actions) and self.continue_as_new is None:
            node = self.current = self.invoke(self.actions[self.cursor])
            self.cursor += 1
            if not node.done:
                node.then(lambda _node: self.advance())
                return

    def _schedule(self, item: Scheduled, keeps_open: bool = True) -> tuple[int, _Node]:
        event_id, node = self.next_id, _Node()
        node.call_id = event_id
        self.next_id += 1
        self.scheduled[event_id] = item
        self.waiting[event_id] = node
        if keeps_open:
            self.open_ids.add(event_id)
        return event_id, node

    def _wait_event(self, name: str) -> _Node:
        node = _Node()
        if self.early_events[name] > 0:
            self.early_events[name] -= 1
            node.finish(False)
        else:
            self.event_waiters[name].append(node)
        return node

    def _call(self, action: dict[str, Any], kind: EventType) -> _Node:
        if kind == EventType.SubOrchestrationInstanceCreated:
            event_id = self.next_id
            child = action.get("instanceId") or f"{self.execution_id}:{event_id}"
            return self._schedule(Scheduled(kind, action["functionName"], action.get("input"), child))[1]
        if action["actionType"] == ActionType.CallHttp:
            return self._schedule(Scheduled(kind, HTTP_ACTIVITY_NAME, json.dumps(action.get("httpRequest"))))[1]
        name = action["functionName"]
        if self.known_lower is not None and name.lower() not in self.known_lower:
            raise UnknownFunction(unknown_activity(name, self.known_activities or frozenset()))
        return self._schedule(Scheduled(kind, name, action.get("input")))[1]

    def _with_retry(self, action: dict[str, Any], kind: EventType) -> _Node:
        options = action.get("retryOptions") or {}
        interval = max(0.0, float(options.get("firstRetryIntervalInMilliseconds", 0)) / 1000.0)
        max_attempts = max(1, int(options.get("maxNumberOfAttempts", 1)))
        outer = _Node()
        attempts = [1]

        def attempt_done(node: _Node) -> None:
            if not node.failed:
                outer.finish(False)
                return
            last = attempts[0] >= max_attempts
            # After the last failure the SDK still waits for one extra timer; it fires at once.
            delay = 0.0 if last else min(interval, 6 * 86400.0)
            _, timer = self._schedule(Scheduled(EventType.TimerCreated, "", fire_at=self.now + timedelta(
                seconds=delay), retry_of=node.call_id, retry_last=last))
            timer.then(lambda _t: outer.finish(True) if last else retry())

        def attempt() -> None:
            call = self._call(action, kind)
            outer.call_id = call.call_id
            call.then(attempt_done)

        def retry() -> None:
            attempts[0] += 1
            attempt()

        attempt()
        return outer

    def invoke(self, action: dict[str, Any]) -> _Node:
        kind = action.get("actionType")
        if kind == ActionType.CallActivity or kind == ActionType.CallHttp:
            return self._call(action, EventType.TaskScheduled)
        if kind == ActionType.CallActivityWithRetry:
            return self._with_retry(action, EventType.TaskScheduled)
        if kind == ActionType.CallSubOrchestrator:
            return self._call(action, EventType.SubOrchestrationInstanceCreated)
        if kind == ActionType.CallSubOrchestratorWithRetry:
            return self._with_retry(action, EventType.SubOrchestrationInstanceCreated)
        if kind == ActionType.CreateTimer:
            cancelled = bool(action.get("isCanceled"))
            fire_at = parse_timestamp(action["fireAt"])
            _, node = self._schedule(Scheduled(EventType.TimerCreated, "", fire_at=fire_at, cancelled=cancelled),
                                     keeps_open=not cancelled)
            if cancelled:
                node.finish(True)
            return node
        if kind == ActionType.WaitForExternalEvent:
            return self._wait_event(action["externalEventName"])
        if kind in (ActionType.CallEntity, ActionType.SignalEntity, ActionType.ScheduledSignalEntity):
            signal = kind != ActionType.CallEntity
            event_id = self.next_id
            request_id = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{self.execution_id}/{event_id}"))
            request = json.dumps({"id": request_id, "op": action.get("operation"), "signal": signal,
                                  "input": action.get("input"), "parent": None,
                                  "fireAt": action.get("fireAt")})
            fire_at = parse_timestamp(action["fireAt"]) if action.get("fireAt") else None
            self._schedule(Scheduled(EventType.EventSent, action.get("operation") or "", request,
                                      action["instanceId"], fire_at=fire_at), keeps_open=False)
            return _done() if signal else self._wait_event(request_id)
        if kind == ActionType.ContinueAsNew:
            self.continue_as_new = (action.get("input"),)
            return _done()
        if kind in (ActionType.WhenAll, ActionType.WhenAny):
            compound = action.get("compoundActions") or []
            children = [self.invoke(child) for child in compound]
            if kind == ActionType.WhenAny:
                return _when_any(children)
            node = _when_all(children)
            node.awaits = _calls(compound, children)
            return node
        raise NonDeterminism(f"unknown actionType {kind!r}")

    def blocked(self) -> bool:
        """The replay ran every action and stopped at the last one, not done: the point where the orchestrator code
        waits. Only then does replaying more history with a longer action list (this one extended) go exactly as a
        replay from the start would: the waiting node's listener resumes the actions when history completes it."""
        node = self.current
        return node is not None and not node.done and self.cursor == len(self.actions) \
            and self.continue_as_new is None

    def resume(self, actions: list[dict[str, Any]], history: list[dict[str, Any]]) -> None:
        """Carry a blocked replay on (`blocked()`): the orchestrator's new action list, which begins with the one
        replayed so far, and the history events that followed the ones replayed."""
        self.actions = actions
        self.replay(history)

    def awaited_all(self) -> frozenset[int] | None:
        """When the orchestrator is blocked on its last action and that is a task_all of calls (activities,
        sub-orchestrations, HTTP, with retries or not): the event ids of the calls still open (a retried call's
        current attempt; none while it waits for its retry timer, whose firing wakes the instance). Until the last
        of them completes, a successful completion of one cannot let the orchestrator code do anything new (it
        only runs on when the task it yielded completes, and that is this task_all), so the host need not replay
        it. None otherwise.
        The SDK (replay schema V2+) appends an action when the task is yielded, so the last action is the
        yielded one while it is not done; a task_all whose children were scheduled before lists fewer children,
        so it completes here no later than in the SDK."""
        node = self.current
        if node is None or node.done or node.awaits is None or self.cursor != len(self.actions) \
                or self.continue_as_new is not None:
            return None
        return frozenset(c.call_id for c in node.awaits if not c.done and c.call_id in self.waiting)

    # -- the history side -----------------------------------------------------------------
    def replay(self, history: list[dict[str, Any]]) -> None:
        for event in history:
            kind = event["EventType"]
            if kind == EventType.OrchestratorStarted:
                self.now = parse_timestamp(event["Timestamp"])
            elif kind == EventType.ExecutionStarted:
                self.advance()
            elif kind in _ACTION_NAMES:  # a task the code scheduled
                self._match(event)
            elif kind in (EventType.TaskCompleted, EventType.SubOrchestrationInstanceCompleted):
                self._complete(event["TaskScheduledId"], False)
            elif kind in (EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed):
                self._complete(event["TaskScheduledId"], True)
            elif kind == EventType.TimerFired:
                self._complete(event["TimerId"], False)
            elif kind == EventType.EventRaised:
                waiters = self.event_waiters.get(event["Name"])
                if waiters:
                    waiters.popleft().finish(False)
                else:
                    self.early_events[event["Name"]] += 1

    @staticmethod
    def key(event: dict[str, Any]) -> tuple[Any, ...]:
        """Every field of `event` that `replay` reads (keep the two in step): events with equal keys replay alike."""
        kind = event["EventType"]
        return (kind, event.get("EventId"), event.get("Name"), event.get("TaskScheduledId"), event.get("TimerId"),
                event.get("Timestamp") if kind == EventType.OrchestratorStarted else None,
                event.get("Input") if kind == EventType.EventSent else None)

    def _match(self, event: dict[str, Any]) -> None:
        event_id, kind = event["EventId"], EventType(event["EventType"])
        item = self.scheduled.pop(event_id, None)
        recorded = event.get("Name") or ""
        if item is None:
            raise NonDeterminism(non_determinism_text(event, None), event)
        # names compared ignoring case, as DurableTask.Core compares them (StringComparison.OrdinalIgnoreCase)
        if item.kind != kind or (kind != EventType.TimerCreated and item.name.lower() != recorded.lower()
                                 and not (kind == EventType.EventSent and recorded == ENTITY_REQUEST)):
            raise NonDeterminism(non_determinism_text(event, item), event, item)
        if kind == EventType.EventSent:
            self._answer_as_recorded(item, event)

    def _answer_as_recorded(self, item: Scheduled, event: dict[str, Any]) -> None:
        """An entity call waits for the response named by the request id its recorded EventSent carries, as the SDK
        keys it: devhost's own ids are the ones it computed, a history from elsewhere (an Azure task hub) has others."""
        try:
            mine, theirs = json.loads(item.input or "{}").get("id"), json.loads(event.get("Input") or "{}").get("id")
        except (ValueError, AttributeError):
            return
        if not mine or not theirs or mine == theirs:
            return
        waiters = self.event_waiters.pop(mine, None)
        if waiters:
            self.event_waiters[theirs].extend(waiters)

    def _complete(self, event_id: int, failed: bool) -> None:
        self.open_ids.discard(event_id)
        node = self.waiting.pop(event_id, None)
        if node is not None:
            node.finish(failed)


def _calls(compound: list[dict[str, Any]], children: list[_Node]) -> list[_Node] | None:
    """The call behind each child of a WhenAll, when every child is one: a call, or a WhenAll of one call (the
    SDK wraps each call_*_with_retry so); None when any child is something else."""
    calls = []
    for action, node in zip(compound, children):
        if action.get("actionType") in _CALLS:
            calls.append(node)
        elif action.get("actionType") == ActionType.WhenAll and node.awaits is not None and len(node.awaits) == 1:
            calls.append(node.awaits[0])
        else:
            return None
    return calls


def _done() -> _Node:
    """A task that is complete as soon as it is made: a signal, a continue-as-new."""
    node = _Node()
    node.finish(False)
    return node


def _when_all(children: list[_Node]) -> _Node:
    node = _Node()
    remaining = [len(children)]

    def child_done(child: _Node) -> None:
        remaining[0] -= 1
        if child.failed:
            node.finish(True)  # the SDK's task_all fails on the first failure
        elif remaining[0] == 0:
            node.finish(False)

    if not children:
        node.finish(False)
    for child in children:
        child.then(child_done)
    return node


def _when_any(children: list[_Node]) -> _Node:
    node = _Node()
    if not children:
        node.finish(False)
    for child in children:
        child.then(lambda _child: node.finish(False))
    return node

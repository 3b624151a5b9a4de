"""Drives one orchestration instance through devhost's engine and the real SDK, as the dispatcher does but in memory:
engine.prepare sorts the inbox, the SDK's Orchestrator.create(...) runs on Episode.context_json, engine.decide
applies the returned OrchestratorState. Time is set by the test; nothing sleeps, nothing is stored."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import azure.durable_functions as df
from azure.functions import meta
from azure.functions.durable_functions import OrchestrationTriggerConverter

from devhost.model import EpisodeOutcome, EventType, NewInstance, OutgoingMessage, RuntimeStatus
from devhost.protocol import engine
from devhost.protocol import history_events as ev
from devhost.protocol.kept_replays import KeptReplays

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def sdk_state(main: Callable[[Any], str], context_json: str) -> tuple[dict[str, Any] | None, str | None]:
    """Call an orchestrator's entry point as the worker does; (OrchestratorState, None) or, when it raises,
    (the state after $OutOfProcData$, the error), as the dispatcher turns failures into data."""
    context = OrchestrationTriggerConverter.decode(meta.Datum(context_json, "string"), trigger_metadata=None)
    try:
        return json.loads(main(context)), None
    except Exception as exc:
        error, state = engine.failure_details(str(exc))
        return state, error


# Which event announces the task each kind of completion answers (TaskScheduledId / TimerId = its EventId).
_ANNOUNCED_BY = {EventType.TaskCompleted: EventType.TaskScheduled, EventType.TaskFailed: EventType.TaskScheduled,
                 EventType.SubOrchestrationInstanceCompleted: EventType.SubOrchestrationInstanceCreated,
                 EventType.SubOrchestrationInstanceFailed: EventType.SubOrchestrationInstanceCreated,
                 EventType.TimerFired: EventType.TimerCreated}


class Driver:
    """One instance: its committed history, its inbox, its status, and the decisions of its episodes."""

    def __init__(self, orchestrator: Callable[..., Any], name: str = "O", input_: Any = None,
                 instance_id: str = "inst-1", execution_id: str = "exec-1",
                 activities: frozenset[str] | None = frozenset({"Hello"}), parent: dict[str, Any] | None = None,
                 start: datetime = T0, replays: KeptReplays | None = None, reread: bool = False,
                 max_actions: int = engine.DEFAULT_MAX_ACTIONS) -> None:
        self.max_actions = max_actions  # host.json's maxOrchestrationActions
        self.replays = replays  # the engine keeps the shim's replay between episodes (None: from the start)
        self.reread = reread  # committed events come back as new dicts decoded from their stored texts, as the
        # store's kept histories give them
        self.main = df.Orchestrator.create(orchestrator)
        self.name = name
        self.instance_id = instance_id
        self.execution_id = execution_id
        self.activities = activities
        self.now = start
        self.history: list[dict[str, Any]] = []
        self.inbox: list[tuple[int, dict[str, Any]]] = []
        self.status = RuntimeStatus.Pending
        # Stored as the SDK client's start_new sends it: the JSON text of the JSON-encoded input.
        self.input: str | None = None if input_ is None else json.dumps(json.dumps(input_))
        self.parent_instance_id = (parent or {}).get("OrchestrationInstance", {}).get("InstanceId")
        self.decisions: list[EpisodeOutcome] = []
        self.episodes: list[engine.Episode] = []
        self.states: list[dict[str, Any] | None] = []
        self.child_statuses: dict[str, RuntimeStatus] = {}  # the stored statuses of sub-orchestration ids
        self._ids = 0
        self.send(ev.execution_started(self.now, instance_id, execution_id, name, self.input, parent))

    # -- the inbox ---------------------------------------------------------------------------------
    def send(self, event: dict[str, Any]) -> int:
        """Put `event` in the inbox. A completion must answer a task the history announced: the test fails on a
        TaskCompleted for an activity that was never scheduled, as no real host could deliver one."""
        announced_by = _ANNOUNCED_BY.get(EventType(event["EventType"]))
        if announced_by is not None:
            task_id = event["TimerId"] if event["EventType"] == EventType.TimerFired else event["TaskScheduledId"]
            if not any(e["EventType"] == announced_by and e["EventId"] == task_id for e in self.history):
                raise AssertionError(f"{EventType(event['EventType']).name} for task {task_id}, which no "
                                     f"{announced_by.name} in the history announced: {self.kinds()}")
        self._ids += 1
        self.inbox.append((self._ids, event))
        return self._ids

    def complete(self, task_id: int, result: Any) -> None:
        """The activity scheduled as `task_id` returned `result` (it must have been scheduled)."""
        self.send(ev.task_completed(self.now, task_id, json.dumps(result)))

    def fail(self, task_id: int, reason: str, details: str = "") -> None:
        """The activity scheduled as `task_id` raised (it must have been scheduled)."""
        self.send(ev.task_failed(self.now, task_id, reason, details))

    def raise_event(self, name: str, value: Any) -> None:
        self.send(ev.event_raised(self.now, name, json.dumps(value)))

    def fire(self, timer_id: int) -> None:
        """Deliver the TimerFired message an earlier decision sent for `timer_id`, at its time."""
        message = next(m for m in self.sent_to_self() if m.event["EventType"] == EventType.TimerFired
                       and m.event["TimerId"] == timer_id)
        self.now = max(self.now, datetime.fromtimestamp(message.visible_at, timezone.utc))
        self.send(message.event)

    def sent_to_self(self) -> list[OutgoingMessage]:
        return [m for d in self.decisions for m in d.messages if m.instance_id == self.instance_id]

    # -- episodes ----------------------------------------------------------------------------------
    def episode(self, seconds: float = 1.0) -> EpisodeOutcome:
        """Run one episode `seconds` after the previous one and apply its decision as the store would."""
        self.now += timedelta(seconds=seconds)
        episode = engine.prepare(self.instance_id, self.execution_id, self.name, self.status, self.history,
                                 self.inbox, self.now)
        state, error = None, None
        if episode.run_code:
            state, error = sdk_state(self.main, episode.context_json(self.input,
                                                                     self.parent_instance_id))
        parent = engine.parent_of(self.history, episode.new_events)
        decision = engine.decide(episode, state, error, parent, self.activities,
                                 lambda ids: {i: self.child_statuses[i] for i in ids if i in self.child_statuses},
                                 lambda: f"{self.execution_id}+", self.replays, self.max_actions)
        self.episodes.append(episode)
        self.states.append(state)
        self.decisions.append(decision)
        self.inbox = [m for m in self.inbox if m[0] not in episode.consumed]
        committed = [json.loads(json.dumps(dict(e, IsPlayed=True))) for e in decision.history] if self.reread \
            else decision.history
        self.history = self.history + committed  # a new list: the episode keeps the one it saw
        self.status = decision.status
        if decision.continue_as_new is not None:
            self._continue_as_new(decision.continue_as_new)
        return decision

    def _continue_as_new(self, start: NewInstance) -> None:
        """The store's part of continue-as-new: a fresh execution whose inbox holds its ExecutionStarted."""
        self.execution_id = start.execution_id
        self.history = []
        self.input = start.input
        self.send(start.started)

    # -- reading the outcome -----------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any] | None:
        """The OrchestratorState the SDK returned in the last episode."""
        return self.states[-1]

    def kinds(self, events: list[dict[str, Any]] | None = None) -> list[str]:
        """EventType names of `events` (default: the whole history), for readable assertions."""
        return [EventType(e["EventType"]).name for e in (self.history if events is None else events)]

    def scheduled(self, decision: EpisodeOutcome | None = None) -> list[tuple[int, str, Any]]:
        """(EventId, EventType name, Name or FireAt) of what `decision` (default: the last) scheduled."""
        decision = decision or self.decisions[-1]
        out = []
        for e in decision.history:
            kind = EventType(e["EventType"])
            if kind in (EventType.TaskScheduled, EventType.SubOrchestrationInstanceCreated, EventType.EventSent):
                out.append((e["EventId"], kind.name, e["Name"]))
            elif kind == EventType.TimerCreated:
                out.append((e["EventId"], kind.name, e["FireAt"]))
        return out


# -- orchestrators and texts the engine and shim tests share ---------------------------------------
CITIES = ["Tokyo", "Seattle", "London"]


def hello_chain(context: df.DurableOrchestrationContext):
    results = []
    for city in CITIES:
        results.append((yield context.call_activity("Hello", city)))
    return results


def wait_for_go(context: df.DurableOrchestrationContext):
    return (yield context.wait_for_external_event("Go"))


def failure_reason(name: str = "Hello", error: str = "ValueError: no") -> str:
    return f"Activity function '{name}' failed: {error}"

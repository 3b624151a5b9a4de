"""Builders for Durable Task history events and the orchestration-context JSON an orchestrator receives.

Each builder is named after the event it makes and returns it in the host's wire shape
(PascalCase fields, integer EventType; docs/protocol.md §4.1). `orchestration_context`
marks which events were already played and wraps them as the orchestration trigger's JSON text.
`replay` runs an episode through the real SDK and through devhost's engine (devhost_decision), which must agree
with it: the suite pins the SDK's behaviour and, with it, how devhost replays the same histories.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

# DurableTask.Core's EventType numbers, the subset these builders make.
EXECUTION_STARTED = 0
TASK_SCHEDULED = 4
TASK_COMPLETED = 5
TASK_FAILED = 6
SUB_ORCHESTRATION_INSTANCE_CREATED = 7
SUB_ORCHESTRATION_INSTANCE_COMPLETED = 8
SUB_ORCHESTRATION_INSTANCE_FAILED = 9
TIMER_CREATED = 10
TIMER_FIRED = 11
ORCHESTRATOR_STARTED = 12
ORCHESTRATOR_COMPLETED = 13
EVENT_RAISED = 15

EPOCH = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def timestamp(seconds: float = 0.0) -> str:
    """Return EPOCH + seconds in the host's format: seven fractional digits and a `Z`."""
    moment = EPOCH + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _event(event_type: int, at: float, event_id: int = -1, **fields: Any) -> dict[str, Any]:
    # IsPlayed is decided by orchestration_context, which sees the whole history.
    return {"EventType": event_type, "EventId": event_id, "IsPlayed": False,
            "Timestamp": timestamp(at), **fields}


def orchestrator_started(at: float = 0.0) -> dict[str, Any]:
    """OrchestratorStarted: opens an episode; its timestamp becomes current_utc_datetime."""
    return _event(ORCHESTRATOR_STARTED, at)


def orchestrator_completed(at: float = 0.0) -> dict[str, Any]:
    """OrchestratorCompleted: closes an episode."""
    return _event(ORCHESTRATOR_COMPLETED, at)


def execution_started(name: str, input: Any = None, *, instance_id: str = "instance-1",
                      execution_id: str = "execution-1", at: float = 0.0) -> dict[str, Any]:
    """ExecutionStarted for orchestrator `name`; `input` is a Python value, stored as JSON text."""
    return _event(
        EXECUTION_STARTED, at,
        OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
        ParentInstance=None, Name=name, Version="",
        Input=None if input is None else json.dumps(input), Tags=None)


def task_scheduled(event_id: int, name: str, input: Any = None, at: float = 0.0) -> dict[str, Any]:
    """TaskScheduled: activity `name` was called with `input` and took task id `event_id`."""
    return _event(TASK_SCHEDULED, at, event_id, Name=name, Version="", Input=json.dumps(input))


def task_completed(task_scheduled_id: int, result: Any, at: float = 0.0) -> dict[str, Any]:
    """TaskCompleted: the activity scheduled as `task_scheduled_id` returned `result`."""
    return _event(TASK_COMPLETED, at, TaskScheduledId=task_scheduled_id, Result=json.dumps(result))


def task_failed(task_scheduled_id: int, reason: str, details: str = "",
                at: float = 0.0) -> dict[str, Any]:
    """TaskFailed: the activity scheduled as `task_scheduled_id` raised."""
    return _event(TASK_FAILED, at, TaskScheduledId=task_scheduled_id, Reason=reason,
                  Details=details)


def timer_created(event_id: int, fire_at: float, at: float = 0.0) -> dict[str, Any]:
    """TimerCreated: a durable timer due at EPOCH + `fire_at` seconds took task id `event_id`."""
    return _event(TIMER_CREATED, at, event_id, FireAt=timestamp(fire_at))


def timer_fired(timer_id: int, fire_at: float, at: float | None = None) -> dict[str, Any]:
    """TimerFired: the timer created as `timer_id` fired (by default exactly at its time)."""
    return _event(TIMER_FIRED, fire_at if at is None else at, TimerId=timer_id, FireAt=timestamp(fire_at))


def event_raised(name: str, input: Any = None, at: float = 0.0) -> dict[str, Any]:
    """EventRaised: external event `name` arrived with `input` (a Python value, stored as JSON text)."""
    return _event(EVENT_RAISED, at, Name=name, Input=None if input is None else json.dumps(input))


def sub_orchestration_created(event_id: int, name: str, instance_id: str, input: Any = None,
                              at: float = 0.0) -> dict[str, Any]:
    """SubOrchestrationInstanceCreated: orchestrator `name` was started as `instance_id`, task id `event_id`."""
    return _event(SUB_ORCHESTRATION_INSTANCE_CREATED, at, event_id, Name=name, Version="",
                  InstanceId=instance_id, Input=None if input is None else json.dumps(input))


def sub_orchestration_completed(task_scheduled_id: int, result: Any, at: float = 0.0) -> dict[str, Any]:
    """SubOrchestrationInstanceCompleted: the sub-orchestration created as `task_scheduled_id` returned."""
    return _event(SUB_ORCHESTRATION_INSTANCE_COMPLETED, at, TaskScheduledId=task_scheduled_id,
                  Result=json.dumps(result))


def sub_orchestration_failed(task_scheduled_id: int, reason: str, details: str = "",
                             at: float = 0.0) -> dict[str, Any]:
    """SubOrchestrationInstanceFailed: the sub-orchestration created as `task_scheduled_id` failed."""
    return _event(SUB_ORCHESTRATION_INSTANCE_FAILED, at, TaskScheduledId=task_scheduled_id, Reason=reason,
                  Details=details)


def chain_history(orchestrator: str, activity: str, inputs: list[Any], results: list[Any],
                  episode: int) -> list[dict[str, Any]]:
    """The history the host sends for episode 1..n of an activity chain: one more call completed per episode."""
    events = [orchestrator_started(0), execution_started(orchestrator)]
    for task_id in range(episode - 1):
        events += [task_scheduled(task_id, activity, inputs[task_id], at=task_id), orchestrator_completed(task_id),
                   orchestrator_started(task_id + 1), task_completed(task_id, results[task_id], at=task_id + 1)]
    return events


def orchestration_context(history: list[dict[str, Any]], *, input: Any = None,
                          instance_id: str = "instance-1", parent_instance_id: str | None = None) -> str:
    """Return the orchestration trigger's JSON text for `history`.

    Events before the last OrchestratorStarted are marked played (they were seen in an
    earlier episode); the rest are new. The schema keys select the SDK's replay schema V3.
    """
    last_start = max(i for i, e in enumerate(history) if e["EventType"] == ORCHESTRATOR_STARTED)
    events = [{**e, "IsPlayed": i < last_start} for i, e in enumerate(history)]
    return json.dumps({
        "history": events,
        "input": input,
        "instanceId": instance_id,
        "isReplaying": last_start > 0,
        "parentInstanceId": parent_instance_id,
        "upperSchemaVersion": 1,
        "upperSchemaVersionNew": 2,
        "longRunningTimerIntervalDuration": "3.00:00:00",
        "maximumShortTimerDuration": "6.00:00:00",
        "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
    })


OUT_OF_PROC_MARKER = "\n\n$OutOfProcData$:"


def trigger_context(history: list[dict[str, Any]], **context: Any) -> Any:
    """What an orchestrator's entry point is called with: the orchestration trigger's context JSON for `history`,
    decoded by azure.functions' converter as the Python worker does. `context` goes to orchestration_context
    (input, instance_id, parent_instance_id)."""
    from azure.functions import meta
    from azure.functions.durable_functions import OrchestrationTriggerConverter

    datum = meta.Datum(orchestration_context(history, **context), "string")
    return OrchestrationTriggerConverter.decode(datum, trigger_metadata=None)


def replay(main: Any, history: list[dict[str, Any]], *, host_agrees: bool = True, **context: Any) -> dict[str, Any]:
    """Call an orchestrator's entry point with `history` as the Python worker does; return the parsed
    OrchestratorState. The same episode also goes through devhost's engine (devhost_decision), which must agree:
    the history is one devhost would have written (each task at the event id and with the name its replay gives
    it), and an orchestrator the SDK says is done with nothing open completes with the SDK's output.
    `host_agrees=False` for a history made to disagree with the code."""
    state = json.loads(main(trigger_context(history, **context)))
    if host_agrees:
        decision = devhost_decision(history, state, instance_id=context.get("instance_id", "instance-1"))
        if decision.status.value == "Failed":
            raise AssertionError(f"devhost's engine fails this episode: {json.loads(decision.output)}")
        if decision.status.value == "Completed":
            assert json.loads(decision.output) == state.get("output"), "devhost completes with another output"
    return state


def devhost_decision(history: list[dict[str, Any]], state: dict[str, Any] | None, error: str | None = None, *,
                     instance_id: str = "instance-1") -> Any:
    """devhost's engine.decide on the episode `history` ends with (from its last OrchestratorStarted), given the
    OrchestratorState the SDK returned for it (or the orchestrator's error): what devhost would commit."""
    from devhost.model import RuntimeStatus, parse_timestamp
    from devhost.protocol import engine

    last_start = max(i for i, e in enumerate(history) if e["EventType"] == ORCHESTRATOR_STARTED)
    started = next(e for e in history if e["EventType"] == EXECUTION_STARTED)
    episode = engine.Episode(instance_id, started["OrchestrationInstance"]["ExecutionId"], started["Name"],
                             RuntimeStatus.Running, history[:last_start], history[last_start:], consumed=[],
                             run_code=True, status_after_messages=RuntimeStatus.Running,
                             now=parse_timestamp(history[last_start]["Timestamp"]))
    return engine.decide(episode, state, error, None, next_execution_id=lambda: "execution-2")


def replay_failure(main: Any, history: list[dict[str, Any]], **context: Any) -> tuple[str, dict[str, Any]]:
    """Like replay, for an orchestrator that raises: return its error text and the OrchestratorState the SDK
    appends after the $OutOfProcData$ marker."""
    try:
        state = replay(main, history, **context)
    except Exception as exc:  # the SDK's way to report an orchestrator failure to the host
        message, _, data = str(exc).partition(OUT_OF_PROC_MARKER)
        state = json.loads(data)
        # devhost's engine fails the instance with the orchestrator's error, as the extension words it
        decision = devhost_decision(history, state, message, instance_id=context.get("instance_id", "instance-1"))
        name = next(e for e in history if e["EventType"] == EXECUTION_STARTED)["Name"]
        assert (decision.status.value, json.loads(decision.output)) == (
            "Failed", f"Orchestrator function '{name}' failed: {message}")
        return message, state
    raise AssertionError(f"the orchestrator did not fail; it returned {state!r}")


def load_function(app_dir: Any, name: str) -> Any:
    """Import the function folder `name` of an example app (e.g. tests/apps/retries) as a package of its own,
    under a name unique to the app, so that folders with the same name in different apps do not collide."""
    import importlib.util
    import sys
    from pathlib import Path

    folder = Path(app_dir) / name
    module_name = f"_example_{Path(app_dir).name}_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module

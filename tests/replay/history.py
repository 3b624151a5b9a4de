"""Builders for Durable Task history events and the orchestration-context JSON an orchestrator receives.

Each builder is named after the event it makes and returns it in the host's wire shape
(PascalCase fields, integer EventType; ../shared/PROTOCOL.md §4.1). `orchestration_context`
marks which events were already played and wraps them as the orchestration trigger's JSON text.
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
ORCHESTRATOR_STARTED = 12
ORCHESTRATOR_COMPLETED = 13

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


def orchestration_context(history: list[dict[str, Any]], *, input: Any = None,
                          instance_id: str = "instance-1") -> str:
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
        "parentInstanceId": None,
        "upperSchemaVersion": 1,
        "upperSchemaVersionNew": 2,
        "longRunningTimerIntervalDuration": "3.00:00:00",
        "maximumShortTimerDuration": "6.00:00:00",
        "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
    })

"""Constructors for Durable history events (PascalCase, EventType as integer), as the extension sends them to the SDK."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from devhost.model import EventType, history_timestamp


def event(event_type: EventType, at: datetime, event_id: int = -1, **fields: Any) -> dict[str, Any]:
    """A history event with the fields every event carries."""
    return {"EventType": int(event_type), "EventId": event_id, "IsPlayed": False,
            "Timestamp": history_timestamp(at), **fields}


def orchestrator_started(at: datetime) -> dict[str, Any]:
    return event(EventType.OrchestratorStarted, at)


def orchestrator_completed(at: datetime) -> dict[str, Any]:
    return event(EventType.OrchestratorCompleted, at)


def execution_started(at: datetime, instance_id: str, execution_id: str, name: str, input_: str | None,
                      parent: dict[str, Any] | None = None, version: str = "") -> dict[str, Any]:
    return event(EventType.ExecutionStarted, at,
                 OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
                 ParentInstance=parent, Name=name, Version=version or "", Input=input_, Tags=None)


def execution_completed(at: datetime, status: str, result: str | None) -> dict[str, Any]:
    return event(EventType.ExecutionCompleted, at, OrchestrationStatus=status, Result=result)


def execution_terminated(at: datetime, reason: str | None) -> dict[str, Any]:
    return event(EventType.ExecutionTerminated, at, Input=reason)


def execution_suspended(at: datetime, reason: str | None) -> dict[str, Any]:
    return event(EventType.ExecutionSuspended, at, Reason=reason)


def execution_resumed(at: datetime, reason: str | None) -> dict[str, Any]:
    return event(EventType.ExecutionResumed, at, Reason=reason)


def task_scheduled(at: datetime, event_id: int, name: str, input_: str | None) -> dict[str, Any]:
    return event(EventType.TaskScheduled, at, event_id, Name=name, Version="", Input=input_)


def task_completed(at: datetime, task_id: int, result: str | None) -> dict[str, Any]:
    return event(EventType.TaskCompleted, at, TaskScheduledId=task_id, Result=result)


def task_failed(at: datetime, task_id: int, reason: str, details: str | None) -> dict[str, Any]:
    return event(EventType.TaskFailed, at, TaskScheduledId=task_id, Reason=reason, Details=details)


def sub_orchestration_created(at: datetime, event_id: int, name: str, instance_id: str,
                              input_: str | None) -> dict[str, Any]:
    return event(EventType.SubOrchestrationInstanceCreated, at, event_id, Name=name, Version="",
                 InstanceId=instance_id, Input=input_)


def sub_orchestration_completed(at: datetime, task_id: int, result: str | None) -> dict[str, Any]:
    return event(EventType.SubOrchestrationInstanceCompleted, at, TaskScheduledId=task_id, Result=result)


def sub_orchestration_failed(at: datetime, task_id: int, reason: str, details: str | None) -> dict[str, Any]:
    return event(EventType.SubOrchestrationInstanceFailed, at, TaskScheduledId=task_id,
                 Reason=reason, Details=details)


# devhost's own note on a retry's timer, kept for rewind (operations.py): the event id of the failed attempt the
# timer follows, and whether that was the last attempt. Neither the SDK nor a status ever sees these fields.
RETRY_OF, RETRY_LAST = "RetryOf", "RetryLast"
DEVHOST_FIELDS = frozenset({RETRY_OF, RETRY_LAST})


def timer_created(at: datetime, event_id: int, fire_at: str, retry_of: int | None = None,
                  retry_last: bool = False) -> dict[str, Any]:
    if retry_of is None:
        return event(EventType.TimerCreated, at, event_id, FireAt=fire_at)
    return event(EventType.TimerCreated, at, event_id, FireAt=fire_at, **{RETRY_OF: retry_of, RETRY_LAST: retry_last})


def without_devhost_fields(e: dict[str, Any]) -> dict[str, Any]:
    """The event as the extension would have it: devhost's own fields left out."""
    return {k: v for k, v in e.items() if k not in DEVHOST_FIELDS}


def timer_fired(at: datetime, timer_id: int, fire_at: str) -> dict[str, Any]:
    return event(EventType.TimerFired, at, TimerId=timer_id, FireAt=fire_at)


def event_sent(at: datetime, event_id: int, instance_id: str, name: str, input_: str | None) -> dict[str, Any]:
    return event(EventType.EventSent, at, event_id, InstanceId=instance_id, Name=name, Input=input_)


def event_raised(at: datetime, name: str, input_: str | None) -> dict[str, Any]:
    return event(EventType.EventRaised, at, Name=name, Input=input_)

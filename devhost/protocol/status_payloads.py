"""The JSON payloads of the management API: instance status and historyEvents, shaped as the extension shapes them."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from devhost.jsontext import shown
from devhost.model import EventType, Instance, json_timestamp, parse_timestamp, status_timestamp
from devhost.protocol.history_events import DEVHOST_FIELDS


def code_parameter(key: str | None) -> str:
    """`code=<key>` as the host appends it to the URLs it hands out when keys are required; "" without a key."""
    return f"code={quote(key, safe='')}" if key else ""


def management_urls(webhook_base: str, hub: str, instance_id: str = "INSTANCEID",
                    key: str | None = None) -> dict[str, str]:
    """The management URLs of an instance (docs/protocol.md §1 managementUrls); with the default id they are
    the durableClient binding's templates, which the SDK fills in. With a key, each carries `&code=<key>`."""
    inst = f"{webhook_base}/instances/{instance_id}"
    common = f"taskHub={hub}&connection=Storage" + (f"&{code_parameter(key)}" if key else "")
    return {"id": instance_id,
            "statusQueryGetUri": f"{inst}?{common}",
            "sendEventPostUri": f"{inst}/raiseEvent/{{eventName}}?{common}",
            "terminatePostUri": f"{inst}/terminate?reason={{text}}&{common}",
            "rewindPostUri": f"{inst}/rewind?reason={{text}}&{common}",
            "purgeHistoryDeleteUri": f"{inst}?{common}",
            "restartPostUri": f"{inst}/restart?{common}",
            "suspendPostUri": f"{inst}/suspend?reason={{text}}&{common}",
            "resumePostUri": f"{inst}/resume?reason={{text}}&{common}"}


def status_payload(instance: Instance, show_input: bool = True,
                   history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """DurableOrchestrationStatus as the webhook returns it."""
    if instance.instance_id.startswith("@"):
        return _entity_instance(instance, show_input)
    body: dict[str, Any] = {
        "name": instance.name,
        "instanceId": instance.instance_id,
        "runtimeStatus": instance.status.value,
        "input": shown(instance.input) if show_input else None,
        "customStatus": shown(instance.custom_status),
        "output": shown(instance.output),
        "createdTime": status_timestamp(instance.created_at),
        "lastUpdatedTime": status_timestamp(instance.updated_at),
    }
    if history is not None:
        body["historyEvents"] = history
    return body


def _entity_instance(instance: Instance, show_input: bool) -> dict[str, Any]:
    """An entity as the instance query shows it: DurableTask.Core's Entities.AutoStart names its instance by its id;
    the extension's TaskEntityShim keeps it Running (continue-as-new after each batch) with its SchedulerState as
    input (the state as JSON text, the sorter empty: devhost keeps no reordering window) and its EntityStatus as
    custom status."""
    exists = instance.output is not None
    scheduler: dict[str, Any] = {"exists": True, "state": instance.output} if exists else {}
    return {
        "name": instance.instance_id,
        "instanceId": instance.instance_id,
        "runtimeStatus": "Running",
        "input": {**scheduler, "sorter": {}} if show_input else None,
        "customStatus": {"entityExists": True} if exists else {},
        "output": None,
        "createdTime": status_timestamp(instance.created_at),
        "lastUpdatedTime": status_timestamp(instance.updated_at),
    }


def entity_status(instance: Instance, fetch_state: bool) -> dict[str, Any]:
    """DurableEntityStatus as the entity listing returns it: the id split from `@name@key`, the last operation
    time with its fraction, the state parsed (null unless fetchState)."""
    _, name, key = instance.instance_id.split("@", 2)
    return {"entityId": {"name": name, "key": key}, "lastOperationTime": json_timestamp(instance.updated_at),
            "state": shown(instance.output) if fetch_state else None}


def _stamp(text: str) -> str:
    """A history timestamp as historyEvents show it: the extension reads the history as Azure Storage serialized it
    (Newtonsoft's default format, DateParseHandling.None), so the fraction has no trailing zeros."""
    try:
        return json_timestamp(parse_timestamp(text))
    except ValueError:
        return text


_SCHEDULERS = {EventType.TaskCompleted: EventType.TaskScheduled, EventType.TaskFailed: EventType.TaskScheduled,
               EventType.SubOrchestrationInstanceCompleted: EventType.SubOrchestrationInstanceCreated,
               EventType.SubOrchestrationInstanceFailed: EventType.SubOrchestrationInstanceCreated}
_TIMES = frozenset({"Timestamp", "FireAt"})  # DateTime fields of the events, serialized as JSON dates
_DROPPED_FIELDS = frozenset({"EventType", "EventId", "IsPlayed"}) | DEVHOST_FIELDS
# What the extension's GetDurableOrchestrationStatusAsync removes from each kind of event.
_REMOVED_FIELDS = {EventType.ExecutionStarted: frozenset({"OrchestrationInstance", "ParentInstance", "Version",
                                                          "Tags"}),
                   EventType.TaskScheduled: frozenset({"Version"}),
                   EventType.SubOrchestrationInstanceCreated: frozenset({"Version"}),
                   EventType.TimerFired: frozenset({"TimerId"}),
                   **{kind: frozenset({"TaskScheduledId"}) for kind in _SCHEDULERS}}


def history_events(events: list[dict[str, Any]], show_output: bool, show_input: bool) -> list[dict[str, Any]]:
    """historyEvents of a status answer: EventType by name; EventId, IsPlayed and the Orchestrator
    Started/Completed markers removed; TaskScheduled folded into its completion (FunctionName, ScheduledTime)."""
    scheduled = {(e["EventType"], e["EventId"]): e for e in events
                 if e["EventType"] in (EventType.TaskScheduled, EventType.SubOrchestrationInstanceCreated)}
    completed = {(_SCHEDULERS[EventType(e["EventType"])], e.get("TaskScheduledId")) for e in events
                 if e["EventType"] in _SCHEDULERS}
    out = []
    for e in events:
        kind = EventType(e["EventType"])
        if kind in (EventType.OrchestratorStarted, EventType.OrchestratorCompleted):
            continue
        if kind in (EventType.TaskScheduled, EventType.SubOrchestrationInstanceCreated) and \
                (kind, e["EventId"]) in completed:
            continue
        item: dict[str, Any] = {"EventType": kind.name}
        dropped = _DROPPED_FIELDS | _REMOVED_FIELDS.get(kind, frozenset())
        for key, value in e.items():
            if key not in dropped:
                item[key] = _stamp(value) if key in _TIMES and isinstance(value, str) else value
        if kind == EventType.ExecutionStarted:
            item["FunctionName"] = item.pop("Name", None)
        if kind in _SCHEDULERS:
            origin = scheduled.get((_SCHEDULERS[kind], e.get("TaskScheduledId")), {})
            item["FunctionName"] = origin.get("Name")
            item["ScheduledTime"] = _stamp(origin.get("Timestamp", e["Timestamp"]))
            if show_input:
                item["Input"] = origin.get("Input")
        if "Result" in item:
            if show_output:
                item["Result"] = shown(item["Result"])
            else:
                del item["Result"]
        if not show_input:  # with showInput, inputs stay the JSON text the host stored, as the extension shows them
            item.pop("Input", None)
        out.append(item)
    return out

"""Shared types of devhost: runtime statuses, Durable history event types, function specs and work items."""
from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

WEBHOOK_PATH = "/runtime/webhooks/durabletask"  # the Durable management API users poll (docs/protocol.md §2)
RPC_PATH = "/durabletask"  # the same API where the SDK's client calls it (the binding's rpcBaseUrl)


class RuntimeStatus(str, enum.Enum):
    """OrchestrationRuntimeStatus as the Durable extension names it."""

    Running = "Running"
    Completed = "Completed"
    ContinuedAsNew = "ContinuedAsNew"
    Failed = "Failed"
    Canceled = "Canceled"
    Terminated = "Terminated"
    Pending = "Pending"
    Suspended = "Suspended"


# The one definition of each set of statuses; the dashboard imports them from GET /devhost/constants.js.
TERMINAL_STATUSES = frozenset({RuntimeStatus.Completed, RuntimeStatus.Failed,
                               RuntimeStatus.Terminated, RuntimeStatus.Canceled})
# Not finished: the status route answers these with 202 and a Location to poll.
ACTIVE_STATUSES = frozenset(RuntimeStatus) - TERMINAL_STATUSES
# Active and not held: the status can change with nobody acting on the instance (what a watcher keeps polling).
PROGRESSING_STATUSES = ACTIVE_STATUSES - {RuntimeStatus.Suspended}


class EventType(enum.IntEnum):
    """DurableTask.Core's EventType, integer-coded as in the orchestration context JSON."""

    ExecutionStarted = 0
    ExecutionCompleted = 1
    ExecutionFailed = 2
    ExecutionTerminated = 3
    TaskScheduled = 4
    TaskCompleted = 5
    TaskFailed = 6
    SubOrchestrationInstanceCreated = 7
    SubOrchestrationInstanceCompleted = 8
    SubOrchestrationInstanceFailed = 9
    TimerCreated = 10
    TimerFired = 11
    OrchestratorStarted = 12
    OrchestratorCompleted = 13
    EventSent = 14
    EventRaised = 15
    ContinueAsNew = 16
    GenericEvent = 17
    HistoryState = 18
    ExecutionSuspended = 19
    ExecutionResumed = 20


class ActionType(enum.IntEnum):
    """The SDK's ActionType: what an orchestrator asks the host to do."""

    CallActivity = 0
    CallActivityWithRetry = 1
    CallSubOrchestrator = 2
    CallSubOrchestratorWithRetry = 3
    ContinueAsNew = 4
    CreateTimer = 5
    WaitForExternalEvent = 6
    CallEntity = 7
    CallHttp = 8
    SignalEntity = 9
    ScheduledSignalEntity = 10
    WhenAny = 11
    WhenAll = 12


HTTP_ACTIVITY_NAME = "BuiltIn::HttpActivity"
# host.json's durableTask.maxOrchestrationActions when it leaves it out (DurableTaskOptions.MaxOrchestrationActions)
DEFAULT_MAX_ACTIONS = 100_000
ENTITY_REQUEST = "op"  # the event name of a request to an entity (the extension's RequestMessage)

# Triggers devhost can fire; a function with any other trigger is listed as not loaded.
TRIGGER_KINDS = {
    "httpTrigger": "http",
    "orchestrationTrigger": "orchestration",
    "activityTrigger": "activity",
    "entityTrigger": "entity",
    "timerTrigger": "timer",
}
# Input bindings devhost feeds besides the trigger (the Durable client payload), and outputs it delivers (the
# HTTP response). Other bindings pass through generically as in the worker: inputs get None, outputs are dropped.
CLIENT_BINDINGS = frozenset({"durableClient", "orchestrationClient"})
# The trigger property that names an orchestrator, activity or entity apart from its function (the extension reads
# it before the function name; DFApp's orchestration=, activity= and entity_name= write it).
DURABLE_NAME_PROPERTIES = {"orchestrationTrigger": "orchestration", "activityTrigger": "activity",
                           "entityTrigger": "entityName"}
DELIVERED_OUTPUTS = frozenset({"http"})


@dataclass(frozen=True)
class Binding:
    """One entry of function.json `bindings`."""

    name: str
    type: str
    direction: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class FunctionSpec:
    """A function folder as loaded from its function.json."""

    name: str
    directory: str
    script_file: str
    entry_point: str
    bindings: tuple[Binding, ...]
    disabled: bool = False

    @functools.cached_property  # asked for on every invocation; the spec never changes
    def trigger(self) -> Binding | None:
        return next((b for b in self.bindings if b.type.endswith("Trigger")), None)

    @property
    def kind(self) -> str | None:
        """'http', 'orchestration', 'activity', 'entity', or None when the trigger is unsupported."""
        trigger = self.trigger
        return TRIGGER_KINDS.get(trigger.type) if trigger else None

    @property
    def durable_name(self) -> str:
        """The name an orchestrator, activity or entity is called by: its trigger's name property, else its name."""
        trigger = self.trigger
        prop = DURABLE_NAME_PROPERTIES.get(trigger.type) if trigger else None
        return str(trigger.raw.get(prop) or self.name) if prop else self.name

    @property
    def unfireable(self) -> str | None:
        """Why devhost cannot run this function (no trigger, or one it cannot fire), or None."""
        trigger = self.trigger
        if trigger is None:
            return "no trigger binding"
        return None if trigger.type in TRIGGER_KINDS else f"devhost cannot fire {trigger.type} triggers"

    @property
    def dropped_outputs(self) -> list[Binding]:
        """Output bindings devhost accepts from the function but cannot deliver (queue, blob, twilioSms...)."""
        return [b for b in self.bindings if b.direction == "out" and b.type not in DELIVERED_OUTPUTS]

    @property
    def unfed_inputs(self) -> list[Binding]:
        """Input bindings (not the trigger) devhost has no data for: the function gets None for them."""
        return [b for b in self.bindings if b.direction == "in" and b is not self.trigger
                and b.type not in CLIENT_BINDINGS]


@dataclass(frozen=True)
class Instance:
    """One orchestration (or entity) instance as the store keeps it."""

    instance_id: str
    name: str
    version: str
    execution_id: str
    status: RuntimeStatus
    input: str | None
    output: str | None
    custom_status: str | None
    created_at: datetime
    updated_at: datetime
    parent_instance_id: str | None = None


@dataclass(frozen=True)
class Message:
    """An event waiting in an instance's inbox (new ExecutionStarted, TaskCompleted, EventRaised, TimerFired...)."""

    id: int
    instance_id: str
    event: dict[str, Any]
    visible_at: float


@dataclass(frozen=True)
class ActivityWork:
    """A scheduled activity (TaskScheduled) waiting to run."""

    id: int
    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: str | None


@dataclass(frozen=True)
class ScheduledActivity:
    """An activity an episode schedules (its TaskScheduled): the event id its result will answer, name and input."""

    task_id: int
    name: str
    input: str | None


@dataclass(frozen=True)
class OutgoingMessage:
    """A message an episode sends to another (or the same) instance's inbox."""

    instance_id: str
    event: dict[str, Any]
    visible_at: float = 0.0


@dataclass(frozen=True)
class NewInstance:
    """An instance an episode creates (a sub-orchestration)."""

    instance_id: str
    name: str
    execution_id: str
    input: str | None
    parent_instance_id: str | None
    started: dict[str, Any]  # its ExecutionStarted event, with ParentInstance


@dataclass
class EpisodeOutcome:
    """What an episode changes, as engine.decide returns it and the store commits it in one transaction: history
    appended, inbox messages consumed, status, output and custom status set, activities scheduled, messages sent,
    sub-orchestrations created, or a new execution begun."""

    history: list[dict[str, Any]]
    status: RuntimeStatus
    consumed: list[int] = field(default_factory=list)
    output: str | None = None
    custom_status: str | None = None
    set_custom_status: bool = False  # False: the custom status stays as it was
    activities: list[ScheduledActivity] = field(default_factory=list)
    messages: list[OutgoingMessage] = field(default_factory=list)
    new_instances: list[NewInstance] = field(default_factory=list)
    continue_as_new: NewInstance | None = None  # the next execution's start
    # activities whose results reached the episode in memory (never written to the inbox): their work items go
    finished_work: list[int] = field(default_factory=list)
    # Not stored: the open tasks of a task_all the orchestrator is blocked on (ActionReplay.awaited_all). Until the
    # last of them completes, their successful completions need not run its code. None: anything may wake it.
    awaits: frozenset[int] | None = None


@dataclass(frozen=True)
class Query:
    """Filters of GET/DELETE instances/."""

    created_from: datetime | None = None
    created_to: datetime | None = None
    statuses: frozenset[RuntimeStatus] = frozenset()
    prefix: str | None = None
    top: int | None = None
    continuation: str | None = None
    name: str | None = None  # part of the orchestrator's name, any case (the dashboard's listing only)
    entities: bool = False  # entities too (as @name@key), as the Azure Storage provider's instance query returns them


class InstanceOrder(str, enum.Enum):
    """What the dashboard's listing sorts instances by, named as the status payload names the field."""

    createdTime = "createdTime"
    lastUpdatedTime = "lastUpdatedTime"
    name = "name"
    runtimeStatus = "runtimeStatus"


@dataclass(frozen=True)
class Listing:
    """One page of the dashboard's instance list (GET /devhost/api/instances): the filters, what it is sorted by
    (ties by created time, then id, in the same direction), newest first unless asked otherwise, and which page."""

    filters: Query = Query()
    order: InstanceOrder = InstanceOrder.createdTime
    descending: bool = True
    offset: int = 0
    top: int = 25


@dataclass(frozen=True)
class EntityQuery:
    """Filters of GET entities[/{name}] (the extension's EntityQuery): name, last operation time, page size."""

    name: str | None = None
    last_operation_from: datetime | None = None
    last_operation_to: datetime | None = None
    top: int | None = None
    continuation: str | None = None


def utc(dt: datetime) -> datetime:
    """The same instant as an aware UTC datetime."""
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


@functools.lru_cache(maxsize=256)
def history_timestamp(dt: datetime) -> str:
    """Timestamp format of history events: ISO with 7 fractional digits (.NET ticks) and Z, as the extension writes
    them; Python keeps microseconds, so the seventh digit is 0. The SDK (dateutil) and fromisoformat read it.
    Memoized: every event of an episode carries the episode's time (a pure function of the instant, or of the fields
    of a naive datetime, which compares unequal to every aware one)."""
    return utc(dt).replace(tzinfo=None).isoformat(timespec="microseconds") + "0Z"  # strftime's, 3x faster


def json_timestamp(dt: datetime) -> str:
    """A timestamp as Newtonsoft.Json writes a UTC DateTime by default ("yyyy-MM-ddTHH:mm:ss.FFFFFFFK"): the
    fraction without its trailing zeros, none at all on a whole second. The history of a status answer and the
    entity listing show them so (DurableTask.AzureStorage's Utils.SerializeToJson, the extension's formatter)."""
    text = history_timestamp(dt)[:-1].rstrip("0").rstrip(".")
    return text + "Z"


_FRACTION = re.compile(r"\.(\d+)")


def parse_timestamp(text: str) -> datetime:
    """The one parser of the timestamps devhost reads (history events, fireAt, query filters): ISO 8601 with any
    number of fractional digits (.NET writes seven; Python keeps six), `Z` or an offset, none meaning UTC. An
    aware UTC datetime; ValueError when the text is not a timestamp."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)  # 3.10 wants 3 or 6 digits
    return utc(datetime.fromisoformat(text))


def status_timestamp(dt: datetime) -> str:
    """Timestamp format of status payloads (seconds, no fraction, Z)."""
    return utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")

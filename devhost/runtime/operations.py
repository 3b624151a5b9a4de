"""Client operations on instances and entities (start, status, query, raise, terminate, suspend, resume, purge,
rewind, restart, signal, read), shared by the HTTP API and the tests. Validates, then changes state in one
transaction and hands new work to the dispatcher."""
from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import datetime
from typing import Any, Callable

from devhost.clock import Clock, new_id
from devhost.errors import BadRequest, Gone, InvalidOperation, NotFound
from devhost.model import (
    ENTITY_REQUEST,
    TERMINAL_STATUSES,
    ActivityWork,
    EntityQuery,
    EventType,
    Instance,
    Listing,
    Message,
    NewInstance,
    OutgoingMessage,
    Query,
    RuntimeStatus,
    ScheduledActivity,
    parse_timestamp,
)
from devhost.protocol import history_events as ev
from devhost.protocol.status_payloads import entity_status, history_events, status_payload
from devhost.protocol.stories import Storyteller, reason_line
from devhost.runtime.store.contract import Store

log = logging.getLogger("devhost")

HandOn = Callable[[list[ActivityWork], list[Message]], None]
MAX_ID_LENGTH = 256


def validate_instance_id(instance_id: str) -> None:
    """The extension's rules for user-chosen instance ids."""
    if not instance_id or not instance_id.strip():
        raise BadRequest("Instance ID must not be empty or whitespace.")
    if len(instance_id) > MAX_ID_LENGTH:
        raise BadRequest(f"Instance ID lengths must not exceed {MAX_ID_LENGTH} characters.")
    if instance_id.startswith("@"):
        raise BadRequest(f"Orchestration instance ids must not start with @: '{instance_id}'.")
    if any(c in "/\\#?" or ord(c) < 32 or 127 <= ord(c) < 160 for c in instance_id):
        raise BadRequest(f"Instance ID '{instance_id}' contains invalid characters: / \\ # ? and control "
                         f"characters are not allowed.")


def entity_instance_id(name: str, key: str) -> str:
    """The scheduler id of an entity: @<lowercased name>@<key>."""
    return f"@{name.lower()}@{key}"


class Operations:
    """The management operations of docs/protocol.md §2–3 over the store."""

    def __init__(self, store: Store, orchestrators: Callable[[], list[str]], clock: Clock, hand_on: HandOn,
                 ids: Callable[[], str] = new_id, entities: Callable[[], list[str] | None] = lambda: None,
                 stories: Storyteller | None = None) -> None:
        self.store = store
        self.stories = stories or Storyteller()  # says on the console when an unknown function failed to load
        self.orchestrators = orchestrators
        self.entities = entities  # the app's entity functions; None: not checked
        self.clock = clock
        self.hand_on = hand_on
        self.ids = ids

    def _unknown(self, refusal: BadRequest) -> BadRequest:
        """A call to a function the app does not have, answered in the extension's words; when that function is
        one that failed to load, the console says so (the answer itself stays the extension's)."""
        why = self.stories.load_error(str(refusal))
        if why:
            log.warning("devhost: %s %s", reason_line(str(refusal)), why)
        return refusal

    # -- lookups ----------------------------------------------------------------------------
    def _existing(self, instance_id: str) -> Instance:
        instance = self.store.get_instance(instance_id)
        if instance is None or instance_id.startswith("@"):
            raise NotFound(f"No instance with ID '{instance_id}' found.")
        return instance

    def _running(self, instance_id: str) -> Instance:
        instance = self._existing(instance_id)
        if instance.status in TERMINAL_STATUSES:
            raise Gone(f"The instance '{instance_id}' is {instance.status.value}.")
        return instance

    def _send(self, instance_id: str, event: dict[str, Any], status: RuntimeStatus | None = None) -> None:
        """One event into an inbox; suspend and resume show their status at once, in the same transaction."""
        message = self.store.add_message(OutgoingMessage(instance_id, event), status, self.clock.time())
        self.hand_on([], [message])

    # -- orchestrations ---------------------------------------------------------------------
    def start(self, name: str, instance_id: str | None = None, input_text: str | None = None,
              version: str = "") -> str:
        """Start (or replace a finished) instance; returns its id. BadRequest for an unknown orchestrator
        or a bad id, Conflict when an unfinished instance has that id."""
        known = self.orchestrators()
        if all(n.lower() != name.lower() for n in known):  # the extension's FunctionName ignores case
            listing = ", ".join(f"'{n}'" for n in known)
            raise self._unknown(BadRequest(f"The function '{name}' doesn't exist, is disabled, or is not an "
                                           f"orchestrator function. Additional info: The following are the known "
                                           f"orchestrator functions: {listing}."))
        if instance_id is None:
            instance_id = self.ids()
        else:
            validate_instance_id(instance_id)
        now = self.clock.now()
        execution_id = self.ids()
        # the instance keeps the name the caller gave, as DurableClient.StartNewAsync passes it on
        started = ev.execution_started(now, instance_id, execution_id, name, input_text, version=version)
        message = self.store.create_instance(
            NewInstance(instance_id, name, execution_id, input_text, None, started), now.timestamp(), version)
        self.hand_on([], [message])
        return instance_id

    def status(self, instance_id: str, show_history: bool = False, show_history_output: bool = False,
               show_input: bool = True) -> dict[str, Any]:
        """The status payload; NotFound when there is no such instance."""
        return self.runtime_status(instance_id, show_history, show_history_output, show_input)[1]

    def runtime_status(self, instance_id: str, show_history: bool = False, show_history_output: bool = False,
                       show_input: bool = True) -> tuple[RuntimeStatus, dict[str, Any]]:
        """The instance's runtime status and its status payload; NotFound when there is no such instance."""
        instance = self._existing(instance_id)
        history = None
        if show_history:
            history = history_events(self.store.get_history(instance_id), show_history_output, show_input)
        return instance.status, status_payload(instance, show_input, history)

    def get(self, instance_id: str) -> Instance | None:
        return None if instance_id.startswith("@") else self.store.get_instance(instance_id)

    def query(self, query: Query, show_input: bool = False) -> tuple[list[dict[str, Any]], str | None]:
        """One page of status payloads and the continuation token of the next page (None at the end)."""
        instances, token = self.store.query(query)
        return [status_payload(i, show_input) for i in instances], token

    def list_instances(self, listing: Listing,
                       show_input: bool = False) -> tuple[list[dict[str, Any]], int, dict[str, int]]:
        """The dashboard's listing: one page of status payloads, how many instances match the filters, and how many
        match them in each status, the status filter aside (so the counts tell what choosing a status would show)."""
        counts = self.store.count_by_status(replace(listing.filters, statuses=frozenset()))
        wanted = listing.filters.statuses or frozenset(RuntimeStatus)
        total = sum(n for status, n in counts.items() if status in wanted)
        page = [status_payload(i, show_input) for i in self.store.list_instances(listing)]
        return page, total, {status.value: n for status, n in counts.items()}

    def accepts_events(self, instance_id: str) -> None:
        """NotFound or Gone unless the instance takes external events (Pending, Running, Suspended)."""
        self._running(instance_id)

    def raise_event(self, instance_id: str, event_name: str, data_text: str | None) -> None:
        """Deliver an external event (EventRaised); Pending, Running and Suspended instances accept it."""
        self.accepts_events(instance_id)
        self._send(instance_id, ev.event_raised(self.clock.now(), event_name, data_text))

    def terminate(self, instance_id: str, reason: str | None) -> None:
        self._running(instance_id)
        self._send(instance_id, ev.execution_terminated(self.clock.now(), reason))

    def suspend(self, instance_id: str, reason: str | None) -> None:
        instance = self._running(instance_id)
        if instance.status == RuntimeStatus.Suspended:
            raise InvalidOperation(f"Cannot suspend orchestration instance '{instance_id}': it is already suspended.")
        self._send(instance_id, ev.execution_suspended(self.clock.now(), reason), RuntimeStatus.Suspended)

    def resume(self, instance_id: str, reason: str | None) -> None:
        instance = self._running(instance_id)
        if instance.status != RuntimeStatus.Suspended:
            raise InvalidOperation(f"Cannot resume orchestration instance '{instance_id}': it is not suspended.")
        self._send(instance_id, ev.execution_resumed(self.clock.now(), reason), RuntimeStatus.Running)

    def purge(self, instance_id: str) -> int:
        """Delete an instance, its history, inbox and work, whatever its status (the extension 3.x purges a running
        one too: its storage provider deletes by id); NotFound when there is none."""
        self._existing(instance_id)
        return self.store.purge([instance_id])

    def purge_by(self, query: Query) -> int:
        """Delete the instances that match; returns how many. As DurableTask.AzureStorage's PurgeInstanceHistoryAsync,
        only the finished statuses of the filter count, and a filter left with none matches every status: running
        instances are deleted too, which devhost says in a warning."""
        if query.created_from is None:
            raise BadRequest("A 'createdTimeFrom' query parameter is required to purge instances.")
        statuses = query.statuses & TERMINAL_STATUSES if query.statuses else frozenset()
        if not statuses:
            log.warning("devhost: purging by filter without a finished runtimeStatus (Completed, Failed, Terminated) "
                        "deletes instances of every status, running ones included, as the extension does")
        ids = self.store.matching_ids(Query(query.created_from, query.created_to, frozenset(statuses)))
        return self.store.purge(ids)

    def restart(self, instance_id: str, new_instance_id: bool = True) -> str:
        """Start the instance's orchestrator again with the same input, under a new id or the same one."""
        instance = self.store.get_instance(instance_id)
        if instance is None or instance_id.startswith("@"):  # the extension's text, its spelling included
            raise BadRequest(f"An orchestrastion with the instanceId {instance_id} was not found.",
                             "InstanceId does not match a valid orchestration instance.")
        target = None if new_instance_id else instance_id
        return self.start(instance.name, target, instance.input, instance.version)

    def rewind(self, instance_id: str, reason: str | None) -> None:
        """Retry a Failed instance's failed activities and sub-orchestrations; history keeps what succeeded."""
        self._rewind(instance_id, reason, set())

    def _rewind(self, instance_id: str, reason: str | None, visited: set[str]) -> None:
        """rewind, remembering the instances it has rewound: a failed sub-orchestration may name its parent's own
        id (its start failed because that id was taken) or an instance already rewound, and each is rewound once."""
        visited.add(instance_id)
        instance = self._existing(instance_id)
        if instance.status in TERMINAL_STATUSES - {RuntimeStatus.Failed}:
            raise Gone(f"The instance '{instance_id}' is {instance.status.value}; only failed instances can be "
                       f"rewound.")  # the extension's 410, which the SDK's rewind() reports as such
        if instance.status != RuntimeStatus.Failed:  # the extension's InvalidOperationException: a 500
            raise InvalidOperation("The rewind operation is only supported on failed orchestration instances.")
        history, retry, children = _rewound(self.store.get_history(instance_id))
        now = self.clock.now()
        for child in children:
            child_instance = None if child in visited else self.store.get_instance(child)
            if child_instance is not None and child_instance.status == RuntimeStatus.Failed:
                self._rewind(child, reason, visited)
        wake = OutgoingMessage(instance_id, dict(ev.event(EventType.GenericEvent, now, Data=reason or ""),
                                                 ExecutionId=instance.execution_id))
        works, sent = self.store.rewind(instance, history, retry, [wake], now.timestamp())
        self.hand_on(works, sent)

    # -- entities ---------------------------------------------------------------------------
    def signal_entity(self, name: str, key: str, operation: str, input_text: str | None) -> None:
        """Signal an entity; `input_text` is the JSON text of the operation input (None: no input). As in the
        extension's RequestMessage.SetInput, the entity's batch then gets that value's JSON text, so the SDK
        client's double-encoded `"5"` reaches get_input() as 5. BadRequest, as the extension's ArgumentException,
        for a key with control characters or an entity function the app does not have."""
        if any(c == "\\" or ord(c) < 32 or 127 <= ord(c) < 160 for c in key):
            # The extension passes the message and the parameter name to ArgumentException the other way round.
            raise BadRequest("entityKey (Parameter 'Entity keys must not contain /, \\, #, ?, or control "
                             "characters.')", bare=True)
        known = self.entities()
        if known is not None and name.lower() not in {n.lower() for n in known}:
            # Word for word the extension's GetInvalidEntityFunctionMessage, which lists the known entities when
            # the app has orchestrators.
            names = "', '".join(known)
            listing = (f"The following are the known entity functions: '{names}'." if self.orchestrators()
                       else "No entity functions are currently registered!")
            raise self._unknown(BadRequest(f"The function '{name}' doesn't exist, is disabled, or is not an entity "
                                           f"function. Additional info: {listing}", bare=True))
        request: dict[str, Any] = {"id": self.ids(), "op": operation, "signal": True}
        if input_text is not None:
            request["input"] = json.loads(input_text)
        entity = entity_instance_id(name, key)
        self._send(entity, ev.event_raised(self.clock.now(), ENTITY_REQUEST, json.dumps(request)))

    def list_entities(self, query: EntityQuery, fetch_state: bool = False) -> tuple[list[dict[str, Any]], str | None]:
        """One page of entities that have state (DurableEntityStatus payloads) and the next page's token."""
        entities, token = self.store.query_entities(query)
        return [entity_status(e, fetch_state) for e in entities], token

    def entity(self, name: str, key: str) -> dict[str, Any]:
        """One entity as the listing shows it (DurableEntityStatus with its state) and whether it has state: a
        deleted one keeps the time of its last operation, one never used has none."""
        instance = self.store.get_instance(entity_instance_id(name, key))
        if instance is None:
            return {"entityId": {"name": name.lower(), "key": key}, "exists": False, "lastOperationTime": None,
                    "state": None}
        return {**entity_status(instance, fetch_state=True), "exists": instance.output is not None}

    def read_entity(self, name: str, key: str) -> str:
        """The entity's state as JSON text; NotFound when it has none."""
        exists, state = self.store.load_entity(entity_instance_id(name, key))
        if not exists or state is None:
            raise NotFound(f"Entity @{name}@{key} has no state.")
        return state


def _rewound(history: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[ScheduledActivity], list[str]]:
    """History with the failure of the last episode and the failures the orchestration did not get past removed;
    the activities to run again; the failed sub-orchestrations to rewind. As in the extension, a failed task's
    TaskScheduled (or SubOrchestrationInstanceCreated) stays and the task runs again. A retry's attempt that was
    followed by another attempt stays failed, with the timer between them: the retry got past it. The failure of
    its last attempt goes, with the timer after it, so that attempt runs again (the extension keeps that timer and
    the rewound instance fails as non-deterministic: docs/protocol.md §2.2)."""
    retry_timers = [e for e in history if e["EventType"] == EventType.TimerCreated and ev.RETRY_OF in e]
    handled = {e[ev.RETRY_OF] for e in retry_timers if not e[ev.RETRY_LAST]}
    last_timers = {e["EventId"] for e in retry_timers if e[ev.RETRY_LAST]}
    scheduled = {e["EventId"]: e for e in history if e["EventType"] == EventType.TaskScheduled}
    created = {e["EventId"]: e for e in history if e["EventType"] == EventType.SubOrchestrationInstanceCreated}
    kept, retry, children = [], [], []
    for e in history:
        kind = e["EventType"]
        if kind == EventType.ExecutionCompleted or (kind == EventType.TimerCreated and e["EventId"] in last_timers) \
                or (kind == EventType.TimerFired and e.get("TimerId") in last_timers):
            continue
        if kind in (EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed) and \
                e["TaskScheduledId"] not in handled:
            if kind == EventType.TaskFailed and e["TaskScheduledId"] in scheduled:
                s = scheduled[e["TaskScheduledId"]]
                retry.append(ScheduledActivity(s["EventId"], s["Name"], s.get("Input")))
                continue
            if kind == EventType.SubOrchestrationInstanceFailed and e["TaskScheduledId"] in created:
                children.append(created[e["TaskScheduledId"]]["InstanceId"])
                continue
        kept.append(e)
    return kept, retry, children


def parse_time(text: str | None) -> datetime | None:
    """createdTimeFrom/To: ISO 8601, with or without fraction and Z."""
    if not text:
        return None
    try:
        return parse_timestamp(text.replace(" ", "+"))  # a "+" of an offset arrives as " " from a query string
    except ValueError as exc:
        raise BadRequest(f"'{text}' is not a valid date and time.") from exc
    except OverflowError as exc:  # in UTC it falls before year 1 or after year 9999
        raise BadRequest(f"'{text}' is out of range: in UTC it must fall within the years 1 to 9999.") from exc

"""The entity batch protocol (docs/protocol.md §5.2), pure: an entity's inbox and stored state in, the trigger's
batch JSON out; the entity function's reply, or its failure, in, the new state and the answers to its callers
out. No I/O, no clock: the dispatcher runs the function and the store commits the outcome."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from devhost.model import OutgoingMessage
from devhost.protocol import history_events as ev

ERROR_TYPE = "Error"  # what the extension sets as exceptionType for an out-of-proc entity's failed operation


@dataclass(frozen=True)
class EntityRequest:
    """One operation waiting in an entity's inbox: a signal, or a call whose caller waits for the answer."""

    message_id: int
    request_id: str | None
    operation: str | None
    input_text: str | None  # the JSON text the entity receives; None: the operation has no input
    is_signal: bool
    parent: str | None = None  # the calling orchestration, for a call
    parent_execution: str | None = None


@dataclass(frozen=True)
class EntityBatch:
    """What one run of an entity function works on: its state and the operations taken from its inbox."""

    entity_id: str
    name: str
    key: str
    exists: bool
    state: str | None
    requests: tuple[EntityRequest, ...]

    @property
    def message_ids(self) -> list[int]:
        return [r.message_id for r in self.requests]

    def context_json(self) -> str:
        """The entity trigger's input: {"self", "exists", "state", "batch": [{"name", "input", "isSignal"}]}."""
        batch = [{"name": r.operation, "input": r.input_text, "isSignal": r.is_signal} for r in self.requests]
        return json.dumps({"self": {"name": self.name, "key": self.key}, "exists": self.exists,
                           "state": self.state, "batch": batch})


@dataclass(frozen=True)
class OperationResult:
    """How one operation ended: its result as JSON text, or its error."""

    operation: str | None
    is_error: bool
    result: str | None


@dataclass(frozen=True)
class EntityOutcome:
    """The outcome of a batch, committed as one transaction: the new state, the answers to callers, and each
    operation's result (the failed ones are logged, as the host logs them)."""

    exists: bool
    state: str | None
    replies: tuple[OutgoingMessage, ...]
    results: tuple[OperationResult, ...]

    @property
    def failures(self) -> list[OperationResult]:
        return [r for r in self.results if r.is_error]


def split_entity_id(entity_id: str) -> tuple[str, str]:
    """`@name@key` as (name, key)."""
    _, name, key = entity_id.split("@", 2)
    return name, key


def request_of(message_id: int, event: dict[str, Any]) -> EntityRequest:
    """The operation an inbox message (an EventRaised whose Input is the request JSON) carries. A request
    without input reaches the entity as "input": null, as the extension sends it."""
    request = json.loads(event.get("Input") or "{}")  # a message that carries no request (a terminate) is no crash
    return EntityRequest(message_id=message_id, request_id=request.get("id"), operation=request.get("op"),
                         input_text=json.dumps(request["input"]) if "input" in request else None,
                         is_signal=bool(request.get("signal")), parent=request.get("parent"),
                         parent_execution=request.get("parentExecution"))


def prepare_batch(entity_id: str, messages: list[tuple[int, dict[str, Any]]], exists: bool,
                  state: str | None) -> EntityBatch:
    """The batch of everything in the inbox, in order, over the stored state."""
    name, key = split_entity_id(entity_id)
    return EntityBatch(entity_id, name, key, exists, state, tuple(request_of(m, e) for m, e in messages))


def apply_reply(batch: EntityBatch, reply: dict[str, Any], now: datetime) -> EntityOutcome:
    """The entity function's reply {"entityExists", "entityState", "results": [{"isError", "result"}]} applied:
    the state it left (none once it no longer exists) and one answer per call."""
    exists = bool(reply.get("entityExists"))
    outcomes = list(reply.get("results") or [])
    results = tuple(OperationResult(r.operation, bool(o.get("isError")), o.get("result"))
                    for r, o in zip(batch.requests, outcomes))
    return EntityOutcome(exists, reply.get("entityState") if exists else None, _replies(batch, results, now),
                         results)


def fail_batch(batch: EntityBatch, error: str, now: datetime) -> EntityOutcome:
    """Every operation of the batch failed with `error` (the function is missing or the whole batch raised): the
    state stays as it was, and every caller gets the error."""
    results = tuple(OperationResult(r.operation, True, json.dumps(error)) for r in batch.requests)
    return EntityOutcome(batch.exists, batch.state, _replies(batch, results, now), results)


def _replies(batch: EntityBatch, results: tuple[OperationResult, ...], now: datetime) -> tuple[OutgoingMessage, ...]:
    """An EventRaised named after the request id to each waiting caller, with {"result"} (+ "exceptionType")."""
    out = []
    for request, result in zip(batch.requests, results):
        if request.is_signal or not request.parent:
            continue  # a signal has no caller to tell
        response: dict[str, Any] = {"result": result.result}
        if result.is_error:
            response["exceptionType"] = ERROR_TYPE
        event = dict(ev.event_raised(now, request.request_id or "", json.dumps(response)),
                     ExecutionId=request.parent_execution)
        out.append(OutgoingMessage(request.parent, event))
    return tuple(out)

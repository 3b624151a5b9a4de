"""The Store contract: the verbs the runtime uses to keep durable state, each with its promise. Every backend keeps
it (tests/devhost/runtime/store/test_contract.py runs the same suite against each one in backends.BACKENDS); the
runtime and the web layer see only this type. Each verb that writes is one transaction: all of it or none."""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Protocol

from devhost.model import (
    ActivityWork,
    EntityQuery,
    EpisodeOutcome,
    Instance,
    Listing,
    Message,
    NewInstance,
    OutgoingMessage,
    Query,
    RuntimeStatus,
    ScheduledActivity,
)


class Store(Protocol):
    """Durable state of one task hub: instances, their histories, inboxes (messages, some visible only later),
    scheduled activities, entity states and a few host settings. Called from the event loop's thread only."""

    # -- lifecycle and commits ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Commit what is pending and release the store; a later verb is an error."""

    def check(self) -> bool:
        """False once the store can no longer be used (its file deleted or replaced): every write is refused then."""

    def add_fault_listener(self, listener: Callable[[], None]) -> None:
        """Call listener() after any write that failed and was rolled back, so the caller can run again what the
        store still holds."""

    def enable_group_commit(self, loop: asyncio.AbstractEventLoop) -> None:
        """From now on the writes made in one turn of `loop` share one commit at the end of the turn; each write
        stays all or nothing within it."""

    def on_commit(self, done: Callable[[], None], failed: Callable[[], None] | None = None) -> None:
        """Run done() once what has been written is committed (at once when nothing is pending), or failed() when
        that commit fails and is rolled back."""

    def idle(self) -> bool:
        """True when nothing written is waiting for its commit."""

    async def durable(self) -> None:
        """Return once everything written so far is committed; StoreUnavailable when that commit failed."""

    # -- reading ---------------------------------------------------------------------------------------------------
    def get_instance(self, instance_id: str) -> Instance | None:
        """The orchestration instance or entity with that id; None when there is none."""

    def get_history(self, instance_id: str) -> list[dict[str, Any]]:
        """The current execution's history events in order; [] when there are none. The caller does not change
        the events."""

    def episode_history(self, instance_id: str) -> tuple[list[dict[str, Any]], list[str]]:
        """The current execution's history events in order with each one's stored JSON text (IsPlayed true), one for
        one: an episode joins its orchestration context from the texts instead of encoding every event again. The
        caller does not change the events."""

    def statuses(self, instance_ids: list[str]) -> dict[str, RuntimeStatus]:
        """The runtime status of those of the instances that exist (missing ids are left out)."""

    def inbox(self, instance_id: str, current_execution: str | None,
              now: float) -> tuple[list[tuple[int, dict[str, Any]]], list[int]]:
        """The messages visible at `now` for the instance, in the order they were sent, as (id, event) — only those
        for `current_execution` (or for none) when it is given — and the ids of stale ones (another execution's)."""

    def query(self, q: Query) -> tuple[list[Instance], str | None]:
        """One page of orchestration instances matching q, oldest first (created time, then id), and the next page's
        token; None on the last page. BadRequest for a token it did not make. Entities only with q.entities (their
        status Running, created at their first operation), as the Azure Storage provider's query lists them."""

    def matching_ids(self, q: Query) -> list[str]:
        """Every orchestration instance id matching q's filters (no paging)."""

    def list_instances(self, listing: Listing) -> list[Instance]:
        """One page of the orchestration instances (never entities) matching listing.filters (its top and
        continuation aside): `listing.top` of them after the first `listing.offset`, sorted by listing.order, ties
        by created time then id, all in one direction (descending: newest first); [] past the end. Cheap on a
        store of 100,000 instances: every order is read from an index, not sorted."""

    def count_by_status(self, q: Query) -> dict[RuntimeStatus, int]:
        """How many orchestration instances (never entities) match q's filters, by runtime status; statuses with
        none are left out, so {} when nothing matches. Counted on an index, cheap on 100,000 instances."""

    def pending_work(self) -> tuple[list[ActivityWork], list[tuple[str, float]]]:
        """After a restart: every scheduled activity not yet completed, and (instance id, earliest visible time) of
        every non-empty inbox."""

    def next_visible(self, after: float) -> float | None:
        """The earliest time later than `after` at which a message becomes visible; None when none waits."""

    def due_inboxes(self) -> list[tuple[str, float]]:
        """(instance id, earliest visible time) of every instance with messages."""

    def load_entity(self, entity_id: str) -> tuple[bool, str | None]:
        """(exists, state JSON text) of an entity; (False, None) when it has no state."""

    def query_entities(self, q: EntityQuery) -> tuple[list[Instance], str | None]:
        """One page of entities that have state, by id, and the next page's token (None at the end). BadRequest
        for a token it did not make."""

    def get_setting(self, key: str) -> str | None:
        """A host setting kept with the data; None when unset."""

    # -- writing: each verb is one transaction -----------------------------------------------------------------
    def create_instance(self, new: NewInstance, now: float, version: str = "") -> Message:
        """Create (or replace a finished) instance, Pending, with its ExecutionStarted in its inbox; returns that
        message. Conflict when an unfinished instance has the id, and nothing changes."""

    def add_message(self, message: OutgoingMessage, status: RuntimeStatus | None = None, now: float = 0.0) -> Message:
        """Put one event into an inbox (raise event, terminate, suspend, resume, signal), setting the instance's
        status with it when one is given."""

    def commit_episode(self, instance: Instance, outcome: EpisodeOutcome,
                       now: float) -> tuple[list[ActivityWork], list[Message]]:
        """One orchestration episode's outcome: history appended, messages consumed, status, output and custom
        status set, activities scheduled, messages sent, sub-orchestrations created or a new execution begun, the
        finished work items deleted. A suspend or resume that arrived while the episode ran keeps the status it
        set. A sub-orchestration id in use raises Conflict and nothing is written. Returns the activities and
        messages written, to hand on."""

    def complete_activity(self, work: ActivityWork, event: dict[str, Any]) -> Message | None:
        """Record an activity's TaskCompleted/TaskFailed in its orchestrator's inbox and delete its work item;
        None (and nothing written) when the work item is already gone: a result is recorded once."""

    def drop_messages(self, ids: list[int], finished_work: list[int] | None = None) -> None:
        """Delete inbox messages nobody will consume, and the work items whose results were never written."""

    def purge(self, instance_ids: list[str]) -> int:
        """Delete instances with their history, inbox and work; returns how many instances were deleted."""

    def rewind(self, instance: Instance, history: list[dict[str, Any]], activities: list[ScheduledActivity],
               messages: list[OutgoingMessage], now: float) -> tuple[list[ActivityWork], list[Message]]:
        """Replace a failed execution's history, set it Running and schedule its failed work again."""

    def commit_entity(self, entity_id: str, name: str, exists: bool, state: str | None, consumed: list[int],
                      messages: list[OutgoingMessage], now: float) -> list[Message]:
        """An entity batch's outcome: new state (or none), requests consumed, responses and signals sent."""

    def put_setting(self, key: str, value: str) -> None:
        """Keep a host setting with the data."""

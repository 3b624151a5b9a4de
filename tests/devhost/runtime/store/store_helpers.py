"""Builders shared by the store's contract suite and its SQLite half: instances, episodes and snapshots."""
from __future__ import annotations

from datetime import datetime, timezone

from devhost.model import EpisodeOutcome, NewInstance, RuntimeStatus
from devhost.protocol import history_events as ev
from devhost.runtime.store.contract import Store

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
NOW = T0.timestamp()


def new_instance(instance_id="i1", name="O", execution_id="e1", input_='"in"', parent=None) -> NewInstance:
    started = ev.execution_started(T0, instance_id, execution_id, name, input_)
    return NewInstance(instance_id, name, execution_id, input_, parent, started)


def at(seconds: float) -> float:
    return NOW + seconds


def snapshot(store: Store, *instance_ids: str):
    """Everything the store holds about some instances, to compare before and after a failed verb."""
    return ([store.get_instance(i) for i in instance_ids], [store.get_history(i) for i in instance_ids],
            [store.inbox(i, None, float("inf")) for i in instance_ids], store.pending_work())


def start_episode(store: Store, instance_id="i1", status=RuntimeStatus.Running, history=None, consumed=None,
                  activities=(), messages=(), output=None, now=NOW):
    """Commit a first episode: the ExecutionStarted message consumed, history written."""
    instance = store.get_instance(instance_id)
    if consumed is None:
        consumed = [m for m, _ in store.inbox(instance_id, None, now)[0]]
    if history is None:
        history = [ev.orchestrator_started(T0), store.inbox(instance_id, None, now)[0][0][1],
                   ev.orchestrator_completed(T0)]
    outcome = EpisodeOutcome(history, status, output=output, consumed=consumed, activities=list(activities),
                             messages=list(messages))
    return store.commit_episode(instance, outcome, now)


def finish(store: Store, instance_id="i1", status=RuntimeStatus.Completed, output='"done"'):
    instance = store.get_instance(instance_id)
    store.commit_episode(instance, EpisodeOutcome([], status, output=output), NOW)

"""devhost.runtime.store.sqlite: a contract test of every Store verb on a real SQLite file: what each returns, what it changes,
that each change is one transaction, and how the file is guarded (lock, foreign or corrupt files, schema version)."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from devhost.errors import BadRequest, Conflict, StoreError, StoreUnavailable
from devhost.model import (
    ActivityWork,
    EntityQuery,
    EpisodeOutcome,
    EventType,
    Instance,
    NewInstance,
    OutgoingMessage,
    Query,
    RuntimeStatus,
    ScheduledActivity,
)
from devhost.protocol import history_events as ev
from devhost.runtime.store.sqlite import APPLICATION_ID, SCHEMA_VERSION, Store

ROOT = Path(__file__).resolve().parents[4]
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


# -- creating instances -----------------------------------------------------------------------
def test_create_instance_is_pending_with_its_execution_started_in_the_inbox(store):
    message = store.create_instance(new_instance(), NOW, version="1.0")

    instance = store.get_instance("i1")
    assert instance == Instance("i1", "O", "1.0", "e1", RuntimeStatus.Pending, '"in"', None, None, T0, T0, None)
    assert message.instance_id == "i1" and message.visible_at == 0.0
    assert message.event["EventType"] == EventType.ExecutionStarted
    assert "ExecutionId" not in message.event  # kept as the message's execution, not in the event
    live, stale = store.inbox("i1", "e1", NOW)
    assert live == [(message.id, message.event)] and stale == []
    assert store.get_history("i1") == []


def test_nothing_there_reads_as_none_or_empty(store):
    assert store.get_instance("nope") is None
    assert store.get_history("nope") == []
    assert store.inbox("nope", None, NOW) == ([], [])
    assert store.pending_work() == ([], [])
    assert store.query(Query()) == ([], None)
    assert store.load_entity("@e@k") == (False, None)


@pytest.mark.parametrize("status", [RuntimeStatus.Pending, RuntimeStatus.Running, RuntimeStatus.Suspended,
                                    RuntimeStatus.ContinuedAsNew])
def test_creating_over_an_unfinished_instance_is_a_conflict_and_changes_nothing(store, status):
    store.create_instance(new_instance(), NOW)
    if status != RuntimeStatus.Pending:
        start_episode(store, status=status)
    before = snapshot(store, "i1")

    with pytest.raises(Conflict, match=f"An Orchestration instance with the status {status.value} already exists."):
        store.create_instance(new_instance(execution_id="e2", input_='"other"'), at(5))

    assert snapshot(store, "i1") == before


@pytest.mark.parametrize("status", [RuntimeStatus.Completed, RuntimeStatus.Failed, RuntimeStatus.Terminated])
def test_creating_over_a_finished_instance_replaces_it(store, status):
    store.create_instance(new_instance(), NOW)
    start_episode(store, activities=[ScheduledActivity(0, "A", '"x"')])
    store.add_message(OutgoingMessage("i1", ev.event_raised(T0, "late", None)))
    finish(store, status=status)

    store.create_instance(new_instance(execution_id="e2", input_='"again"'), at(10))

    instance = store.get_instance("i1")
    assert (instance.status, instance.execution_id, instance.input, instance.output) == (
        RuntimeStatus.Pending, "e2", '"again"', None)
    assert instance.created_at == T0 + timedelta(seconds=10)
    assert store.get_history("i1") == []
    assert [e["EventType"] for _, e in store.inbox("i1", "e2", at(10))[0]] == [EventType.ExecutionStarted]
    assert store.pending_work()[0] == []


# -- messages -------------------------------------------------------------------------------------
def test_add_message_with_a_status_sets_it_in_the_same_transaction(store):
    store.create_instance(new_instance(), NOW)

    message = store.add_message(OutgoingMessage("i1", ev.execution_suspended(T0, "why")), RuntimeStatus.Suspended,
                                at(3))

    instance = store.get_instance("i1")
    assert instance.status == RuntimeStatus.Suspended and instance.updated_at == T0 + timedelta(seconds=3)
    assert store.inbox("i1", "e1", at(3))[0][-1] == (message.id, message.event)


@pytest.mark.parametrize(("pending", "shown"), [
    ([ev.execution_suspended], RuntimeStatus.Suspended),
    ([ev.execution_suspended, ev.execution_resumed], RuntimeStatus.Running),
])
def test_a_suspend_or_resume_that_arrived_during_an_episode_keeps_its_status(store, pending, shown):
    store.create_instance(new_instance(), NOW)
    instance = store.get_instance("i1")
    started = store.inbox("i1", None, NOW)[0]
    # While the episode ran (the orchestrator code is awaited), a client suspended (and maybe resumed) it.
    for make in pending:
        status = RuntimeStatus.Suspended if make is ev.execution_suspended else RuntimeStatus.Running
        store.add_message(OutgoingMessage("i1", make(T0, "why")), status, at(1))

    history = [ev.orchestrator_started(T0), started[0][1], ev.orchestrator_completed(T0)]
    store.commit_episode(instance, EpisodeOutcome(history, RuntimeStatus.Running, consumed=[started[0][0]]), at(2))

    assert store.get_instance("i1").status == shown


def test_a_suspend_still_in_the_inbox_after_a_restart_keeps_its_status(tmp_path):
    """The store remembers which inboxes hold a suspend or resume only in memory: a new Store reads it again."""
    path = tmp_path / "store.sqlite"
    first = Store(path)
    first.create_instance(new_instance(), NOW)
    started = first.inbox("i1", None, NOW)[0]
    first.add_message(OutgoingMessage("i1", ev.execution_suspended(T0, "why")), RuntimeStatus.Suspended, at(1))
    first.close()

    store = Store(path)
    try:
        history = [ev.orchestrator_started(T0), started[0][1], ev.orchestrator_completed(T0)]
        store.commit_episode(store.get_instance("i1"), EpisodeOutcome(history, RuntimeStatus.Running,
                                                                      consumed=[started[0][0]]), at(2))
        assert store.get_instance("i1").status == RuntimeStatus.Suspended
    finally:
        store.close()


def test_a_rolled_back_episode_gives_its_consumed_resume_back_to_the_next_one(tmp_path):
    """An episode that consumed the inbox's resume and failed to commit leaves the resume in the inbox; the next
    episode, which does not consume it, still shows Running."""
    path = tmp_path / "store.sqlite"

    def disk_full(statement: str) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    async def scenario() -> RuntimeStatus:
        store = Store(path)
        store.enable_group_commit(asyncio.get_running_loop())
        try:
            store.create_instance(new_instance(), NOW)
            started = store.inbox("i1", None, NOW)[0]
            resume = store.add_message(OutgoingMessage("i1", ev.execution_resumed(T0, "go")), RuntimeStatus.Running,
                                       at(1))
            await store.durable()
            history = [ev.orchestrator_started(T0), started[0][1], ev.orchestrator_completed(T0)]
            store.fault = disk_full
            store.commit_episode(store.get_instance("i1"), EpisodeOutcome(
                history, RuntimeStatus.Suspended, consumed=[started[0][0], resume.id]), at(2))
            with pytest.raises(StoreUnavailable):
                await store.durable()
            store.fault = None
            store.commit_episode(store.get_instance("i1"), EpisodeOutcome(
                history, RuntimeStatus.Suspended, consumed=[started[0][0]]), at(3))
            await store.durable()
            return store.get_instance("i1").status
        finally:
            store.close()

    assert asyncio.run(scenario()) == RuntimeStatus.Running


def test_add_message_without_a_status_leaves_the_instance_alone(store):
    store.create_instance(new_instance(), NOW)

    store.add_message(OutgoingMessage("i1", ev.event_raised(T0, "go", "1")), None, at(3))

    assert store.get_instance("i1").updated_at == T0


def test_inbox_filters_messages_of_other_executions_as_stale(store):
    store.create_instance(new_instance(), NOW)
    start_episode(store)
    old = store.add_message(OutgoingMessage("i1", dict(ev.task_completed(T0, 0, "1"), ExecutionId="e0")))
    current = store.add_message(OutgoingMessage("i1", dict(ev.task_completed(T0, 1, "2"), ExecutionId="e1")))
    anyone = store.add_message(OutgoingMessage("i1", ev.event_raised(T0, "go", None)))

    live, stale = store.inbox("i1", "e1", NOW)

    assert [m for m, _ in live] == [current.id, anyone.id]
    assert stale == [old.id]
    assert store.inbox("i1", None, NOW)[1] == []  # no current execution: nothing is stale


def test_inbox_hides_messages_until_they_are_visible(store):
    store.create_instance(new_instance(), NOW)
    start_episode(store)
    timer = store.add_message(OutgoingMessage("i1", ev.timer_fired(T0, 0, "x"), at(60)))

    assert store.inbox("i1", "e1", at(59))[0] == []
    assert store.inbox("i1", "e1", at(60))[0] == [(timer.id, timer.event)]
    assert store.due_inboxes() == [("i1", at(60))]


def test_drop_messages_deletes_exactly_those(store):
    store.create_instance(new_instance(), NOW)
    a = store.add_message(OutgoingMessage("i1", ev.event_raised(T0, "a", None)))
    b = store.add_message(OutgoingMessage("i1", ev.event_raised(T0, "b", None)))

    store.drop_messages([a.id])
    store.drop_messages([])

    assert [m for m, e in store.inbox("i1", None, NOW)[0] if e["EventType"] == EventType.EventRaised] == [b.id]


# -- episodes -------------------------------------------------------------------------------------
def test_commit_episode_appends_history_consumes_messages_and_schedules_work(store):
    store.create_instance(new_instance(), NOW)
    (start_id, started), = store.inbox("i1", "e1", NOW)[0]
    history = [ev.orchestrator_started(T0), started, ev.task_scheduled(T0, 0, "Hello", '"Tokyo"'),
               ev.orchestrator_completed(T0)]
    timer = OutgoingMessage("i1", dict(ev.timer_fired(T0, 1, "x"), ExecutionId="e1"), at(30))

    outcome = EpisodeOutcome(history, RuntimeStatus.Running, custom_status='"busy"', set_custom_status=True,
                             consumed=[start_id], activities=[ScheduledActivity(0, "Hello", '"Tokyo"')],
                             messages=[timer])
    works, sent = store.commit_episode(store.get_instance("i1"), outcome, at(1))

    assert store.get_history("i1") == [dict(e, IsPlayed=True) for e in history]
    assert store.inbox("i1", "e1", at(1))[0] == []
    assert works == [ActivityWork(works[0].id, "i1", "e1", 0, "Hello", '"Tokyo"')]
    assert [(m.instance_id, m.visible_at, m.event["EventType"]) for m in sent] == [("i1", at(30), EventType.TimerFired)]
    instance = store.get_instance("i1")
    assert (instance.status, instance.custom_status, instance.output) == (RuntimeStatus.Running, '"busy"', None)
    assert instance.updated_at == T0 + timedelta(seconds=1)
    assert store.pending_work() == (works, [("i1", at(30))])


def test_history_of_later_episodes_follows_in_order(store):
    store.create_instance(new_instance(), NOW)
    start_episode(store)
    later = [ev.orchestrator_started(T0), ev.event_raised(T0, "go", None), ev.orchestrator_completed(T0)]

    store.commit_episode(store.get_instance("i1"), EpisodeOutcome(later, RuntimeStatus.Running), NOW)

    kinds = [e["EventType"] for e in store.get_history("i1")]
    assert kinds == [EventType.OrchestratorStarted, EventType.ExecutionStarted, EventType.OrchestratorCompleted,
                     EventType.OrchestratorStarted, EventType.EventRaised, EventType.OrchestratorCompleted]


def test_custom_status_is_kept_unless_the_episode_sets_it(store):
    store.create_instance(new_instance(), NOW)
    instance = store.get_instance("i1")
    store.commit_episode(instance, EpisodeOutcome([], RuntimeStatus.Running, custom_status='{"step": 1}',
                                                  set_custom_status=True), NOW)

    store.commit_episode(instance, EpisodeOutcome([], RuntimeStatus.Running), NOW)
    assert store.get_instance("i1").custom_status == '{"step": 1}'

    store.commit_episode(instance, EpisodeOutcome([], RuntimeStatus.Completed, output='"out"', set_custom_status=True),
                         NOW)
    assert (store.get_instance("i1").custom_status, store.get_instance("i1").output) == (None, '"out"')


def test_commit_episode_creates_sub_orchestrations(store):
    store.create_instance(new_instance(), NOW)
    parent = {"Name": "O", "Version": "", "TaskScheduleId": 0,
              "OrchestrationInstance": {"InstanceId": "i1", "ExecutionId": "e1"}}
    child = NewInstance("e1:0", "Child", "ce1", '"c"', "i1",
                        ev.execution_started(T0, "e1:0", "ce1", "Child", '"c"', parent))

    store.commit_episode(store.get_instance("i1"), EpisodeOutcome([], RuntimeStatus.Running, new_instances=[child]),
                         NOW)

    made = store.get_instance("e1:0")
    assert (made.name, made.status, made.parent_instance_id, made.execution_id) == (
        "Child", RuntimeStatus.Pending, "i1", "ce1")
    (_, started), = store.inbox("e1:0", "ce1", NOW)[0]
    assert started["ParentInstance"] == parent


def test_a_sub_orchestration_id_in_use_fails_the_whole_commit(store):
    """The store makes no domain decision about a taken child id (the engine refuses those): it writes nothing."""
    store.create_instance(new_instance(), NOW)
    store.create_instance(new_instance("busy", "Other", "be1"), NOW)
    start_episode(store)
    before = snapshot(store, "i1", "busy")
    parent = {"Name": "O", "Version": "", "TaskScheduleId": 3,
              "OrchestrationInstance": {"InstanceId": "i1", "ExecutionId": "e1"}}
    child = NewInstance("busy", "Child", "ce1", None, "i1", ev.execution_started(T0, "busy", "ce1", "Child", None,
                                                                                 parent))

    with pytest.raises(Conflict, match="An Orchestration instance with the status Pending already exists."):
        store.commit_episode(store.get_instance("i1"), EpisodeOutcome([ev.orchestrator_completed(T0)],
                                                                      RuntimeStatus.Running, new_instances=[child]),
                             NOW)

    assert snapshot(store, "i1", "busy") == before
    assert store.statuses(["busy", "i1", "nobody"]) == {"busy": RuntimeStatus.Pending, "i1": RuntimeStatus.Running}


def test_continue_as_new_begins_a_fresh_execution(store):
    store.create_instance(new_instance(), NOW)
    start_episode(store)
    ended = [ev.orchestrator_started(T0), ev.execution_completed(T0, "ContinuedAsNew", "2"),
             ev.orchestrator_completed(T0)]
    nxt = NewInstance("i1", "O", "e2", "2", None, ev.execution_started(T0, "i1", "e2", "O", "2"))

    _, sent = store.commit_episode(store.get_instance("i1"),
                                   EpisodeOutcome(ended, RuntimeStatus.ContinuedAsNew, continue_as_new=nxt), at(1))

    instance = store.get_instance("i1")
    assert (instance.status, instance.execution_id, instance.input, instance.output) == (
        RuntimeStatus.ContinuedAsNew, "e2", "2", None)
    assert store.get_history("i1") == []
    assert [m.event["EventType"] for m in sent] == [EventType.ExecutionStarted]
    assert store.inbox("i1", "e2", at(1))[0] == [(sent[0].id, sent[0].event)]
    # the next episode's history starts again at the beginning
    start_episode(store, history=[ev.orchestrator_started(T0)], consumed=[])
    assert len(store.get_history("i1")) == 1


def test_commit_episode_is_atomic_when_a_new_instance_cannot_be_written(store):
    store.create_instance(new_instance(), NOW)
    before = snapshot(store, "i1")
    (start_id, started), = store.inbox("i1", "e1", NOW)[0]
    bad_child = NewInstance("e1:1", "Child", "ce1", None, "i1", {"EventType": 0, "Input": object()})

    with pytest.raises(TypeError):
        outcome = EpisodeOutcome([ev.orchestrator_started(T0), started], RuntimeStatus.Running,
                                 custom_status='"custom"', set_custom_status=True, consumed=[start_id],
                                 activities=[ScheduledActivity(0, "Hello", '"Tokyo"')],
                                 messages=[OutgoingMessage("other", ev.event_raised(T0, "x", None))],
                                 new_instances=[bad_child])
        store.commit_episode(store.get_instance("i1"), outcome, at(1))

    assert snapshot(store, "i1") == before
    assert store.get_instance("e1:1") is None
    assert store.inbox("other", None, NOW) == ([], [])


def test_commit_episode_is_atomic_when_a_statement_fails_midway(store, monkeypatch):
    store.create_instance(new_instance(), NOW)
    before = snapshot(store, "i1")
    (start_id, started), = store.inbox("i1", "e1", NOW)[0]

    def disk_full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Store, "_insert_messages", disk_full)  # after history, status and activities are written
    with pytest.raises(StoreUnavailable, match="database or disk is full"):
        outcome = EpisodeOutcome([ev.orchestrator_started(T0), started], RuntimeStatus.Completed, output='"out"',
                                 consumed=[start_id], activities=[ScheduledActivity(0, "Hello", None)],
                                 messages=[OutgoingMessage("i1", ev.event_raised(T0, "x", None))])
        store.commit_episode(store.get_instance("i1"), outcome, at(1))

    monkeypatch.undo()
    assert snapshot(store, "i1") == before


# -- activities -----------------------------------------------------------------------------------
def test_complete_activity_records_the_result_exactly_once(store):
    store.create_instance(new_instance(), NOW)
    (work,), _ = start_episode(store, activities=[ScheduledActivity(0, "Hello", '"Tokyo"')])
    result = ev.task_completed(T0, 0, '"Hello Tokyo!"')

    message = store.complete_activity(work, result)
    again = store.complete_activity(work, result)

    assert again is None
    assert message.event == result and message.instance_id == "i1"
    assert [e for _, e in store.inbox("i1", "e1", NOW)[0]] == [result]
    assert store.pending_work()[0] == []


def test_a_completion_for_an_old_execution_is_stale(store):
    store.create_instance(new_instance(), NOW)
    (work,), _ = start_episode(store, activities=[ScheduledActivity(0, "Hello", None)])
    nxt = NewInstance("i1", "O", "e2", None, None, ev.execution_started(T0, "i1", "e2", "O", None))
    store.commit_episode(store.get_instance("i1"), EpisodeOutcome([], RuntimeStatus.ContinuedAsNew,
                                                                  continue_as_new=nxt), NOW)

    message = store.complete_activity(work, ev.task_completed(T0, 0, "1"))

    live, stale = store.inbox("i1", "e2", NOW)
    assert stale == [message.id]
    assert [e["EventType"] for _, e in live] == [EventType.ExecutionStarted]


# -- queries --------------------------------------------------------------------------------------
@pytest.fixture
def many(store):
    """Five instances created a second apart: a0..a2 Completed, b0 Running, b1 Pending; plus an entity."""
    for i, iid in enumerate(["a0", "a1", "a2", "b0", "b1"]):
        store.create_instance(new_instance(iid, execution_id=f"x{i}"), at(i))
    for iid in ["a0", "a1", "a2"]:
        finish(store, iid)
    start_episode(store, "b0")
    store.commit_entity("@counter@k", "counter", True, "5", [], [], NOW)
    return store


def ids(page):
    return [i.instance_id for i in page[0]]


def test_query_returns_orchestrations_oldest_first(many):
    assert ids(many.query(Query())) == ["a0", "a1", "a2", "b0", "b1"]
    assert many.query(Query())[1] is None


def test_query_filters(many):
    assert ids(many.query(Query(created_from=T0 + timedelta(seconds=1)))) == ["a1", "a2", "b0", "b1"]
    assert ids(many.query(Query(created_to=T0 + timedelta(seconds=1)))) == ["a0", "a1"]
    assert ids(many.query(Query(statuses=frozenset({RuntimeStatus.Running, RuntimeStatus.Pending})))) == ["b0", "b1"]
    assert ids(many.query(Query(prefix="b"))) == ["b0", "b1"]
    assert ids(many.query(Query(prefix="a", statuses=frozenset({RuntimeStatus.Running})))) == []


def test_query_pages_with_continuation_tokens(many):
    first = many.query(Query(top=2))
    second = many.query(Query(top=2, continuation=first[1]))
    third = many.query(Query(top=2, continuation=second[1]))

    assert (ids(first), ids(second), ids(third)) == (["a0", "a1"], ["a2", "b0"], ["b1"])
    assert first[1] and second[1] and third[1] is None


def test_query_pages_keep_their_filters(many):
    first = many.query(Query(prefix="a", top=2))

    assert ids(many.query(Query(prefix="a", top=2, continuation=first[1]))) == ["a2"]


def test_a_full_last_page_has_no_token(many):
    assert many.query(Query(top=5))[1] is None


def test_instances_created_in_the_same_instant_page_by_id(store):
    for iid in ["c", "a", "b"]:
        store.create_instance(new_instance(iid), NOW)

    first = store.query(Query(top=2))

    assert ids(first) == ["a", "b"]
    assert ids(store.query(Query(top=2, continuation=first[1]))) == ["c"]


def test_pages_of_several_statuses_interleave_by_created_time(many):
    both = frozenset({RuntimeStatus.Completed, RuntimeStatus.Running})

    first = many.query(Query(statuses=both, top=3))
    second = many.query(Query(statuses=both, top=3, continuation=first[1]))

    assert (ids(first), ids(second)) == (["a0", "a1", "a2"], ["b0"])
    assert second[1] is None
    assert ids(many.query(Query(statuses=frozenset({RuntimeStatus.Failed})))) == []


def test_the_default_page_is_100(store):
    for i in range(101):
        store.create_instance(new_instance(f"i{i:03}"), NOW)

    page, token = store.query(Query())

    assert len(page) == 100 and token is not None
    assert ids(store.query(Query(continuation=token))) == ["i100"]


def _token(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).decode()


@pytest.mark.parametrize("token", ["garbage", _token(b"[1]"), "!!", _token(b"\xff"), _token(b'{"a": 1, "b": 2}'),
                                   _token(b'[[1], ["x"]]'), _token(b'["x", 5]'), _token(b'[1, {"a": 1}]'),
                                   _token(b"[NaN, \"x\"]"), _token(b'[true, "x"]'), _token(b"[1e999, \"x\"]")])
def test_a_bad_continuation_token_is_a_bad_request(many, token):
    with pytest.raises(BadRequest, match="The continuation token is not one this host gave out."):
        many.query(Query(continuation=token))


HOSTILE_TOKENS = [_token(b'[1.5, "\\ud800"]'), _token(b'[1, "a\\udfffb"]'), _token(b'[%d, "x"]' % 2**64),
                  _token(b'[-%d, "x"]' % (2**63 + 1)), _token(b"[" * 2000 + b"]" * 2000),
                  _token(b'[[' * 1500 + b']]' * 1500)]


@pytest.mark.parametrize("token", HOSTILE_TOKENS, ids=["lone-high", "lone-low", "int-2^64", "int-below-64-bits",
                                                       "deep", "deeper"])
def test_a_hostile_continuation_token_is_a_bad_request_before_any_sql(many, token):
    with pytest.raises(BadRequest, match="The continuation token is not one this host gave out."):
        many.query(Query(continuation=token))


@pytest.mark.parametrize("token", [_token(b'["\\ud800"]'), _token(b"[" * 2000 + b"]" * 2000)],
                         ids=["lone-surrogate", "deep"])
def test_a_hostile_entity_continuation_token_is_a_bad_request(store, token):
    with pytest.raises(BadRequest, match="The continuation token is not one this host gave out."):
        store.query_entities(EntityQuery(continuation=token))


def test_a_token_at_the_edge_of_64_bits_is_taken(many):
    assert ids(many.query(Query(continuation=_token(b'[%d, "x"]' % (2**63 - 1))))) == []


def test_matching_ids_uses_the_same_filters(many):
    assert sorted(many.matching_ids(Query(statuses=frozenset({RuntimeStatus.Completed})))) == ["a0", "a1", "a2"]
    assert "@counter@k" not in many.matching_ids(Query())


# -- purge and rewind -----------------------------------------------------------------------------
def test_purge_deletes_instances_with_everything_they_own(store):
    store.create_instance(new_instance(), NOW)
    start_episode(store, activities=[ScheduledActivity(0, "A", None)])
    store.create_instance(new_instance("keep", execution_id="k1"), NOW)

    assert store.purge(["i1", "unknown"]) == 1

    assert store.get_instance("i1") is None
    assert store.get_history("i1") == [] and store.inbox("i1", None, NOW) == ([], [])
    assert store.pending_work() == ([], [("keep", 0.0)])
    assert store.purge([]) == 0


def test_a_purge_gives_the_disk_space_back(tmp_path):
    path = tmp_path / "big.sqlite"
    store = Store(path)
    history = [ev.orchestrator_started(T0)] + [ev.task_completed(T0, i, json.dumps("x" * 500)) for i in range(200)]
    for i in range(50):
        store.create_instance(new_instance(f"p{i}", execution_id=f"e{i}"), NOW)
        start_episode(store, f"p{i}", history=history)
    store.close()
    full = path.stat().st_size
    store = Store(path)
    try:
        assert store.purge([f"p{i}" for i in range(50)]) == 50
        assert path.stat().st_size < full / 4  # the file itself shrank ...
        assert Path(f"{path}-wal").stat().st_size == 0  # ... and the WAL holds nothing after the checkpoint
    finally:
        store.close()


def test_rewind_replaces_history_and_reschedules_work(store):
    store.create_instance(new_instance(), NOW)
    start_episode(store)
    finish(store, status=RuntimeStatus.Failed, output='"boom"')
    kept = [ev.orchestrator_started(T0), ev.execution_started(T0, "i1", "e1", "O", None)]
    wake = OutgoingMessage("i1", dict(ev.event(EventType.GenericEvent, T0, Data=""), ExecutionId="e1"))

    works, sent = store.rewind(store.get_instance("i1"), kept, [ScheduledActivity(2, "Flaky", '"x"')], [wake], at(5))

    instance = store.get_instance("i1")
    assert (instance.status, instance.output) == (RuntimeStatus.Running, None)
    assert store.get_history("i1") == kept
    assert [(w.task_id, w.name, w.execution_id) for w in works] == [(2, "Flaky", "e1")]
    assert [e["EventType"] for _, e in store.inbox("i1", "e1", NOW)[0]] == [EventType.GenericEvent]
    assert sent[0].instance_id == "i1"


# -- entities -------------------------------------------------------------------------------------
def test_entity_state_is_written_with_its_batch(store):
    request = store.add_message(OutgoingMessage("@counter@k", ev.event_raised(T0, "add", '{"op":"add"}')))
    reply = OutgoingMessage("i1", ev.event_raised(T0, "req-1", '{"result":"5"}'))

    sent = store.commit_entity("@counter@k", "counter", True, "5", [request.id], [reply], NOW)

    assert store.load_entity("@counter@k") == (True, "5")
    assert store.inbox("@counter@k", None, NOW) == ([], [])
    assert [(m.instance_id, m.event["Name"]) for m in sent] == [("i1", "req-1")]
    assert store.query(Query()) == ([], None)  # entities are not orchestrations


def test_an_entity_that_stops_existing_has_no_state(store):
    store.commit_entity("@counter@k", "counter", True, "5", [], [], NOW)

    store.commit_entity("@counter@k", "counter", False, "5", [], [], NOW)

    assert store.load_entity("@counter@k") == (False, None)


# -- recovery -------------------------------------------------------------------------------------
def test_work_survives_closing_and_reopening(tmp_path):
    path = tmp_path / "store.sqlite"
    first = Store(path)
    first.create_instance(new_instance(), NOW)
    (work,), _ = start_episode(first, activities=[ScheduledActivity(0, "Hello", '"Tokyo"')])
    first.add_message(OutgoingMessage("i1", ev.timer_fired(T0, 1, "x"), at(60)))
    first.close()

    second = Store(path)
    try:
        assert second.pending_work() == ([work], [("i1", at(60))])
        assert second.get_instance("i1").status == RuntimeStatus.Running
        assert len(second.get_history("i1")) == 3
    finally:
        second.close()


KILLED_MID_TRANSACTION = """
import sys, time
from devhost.runtime.store.sqlite import Store
store = Store(sys.argv[1])
with store.tx() as db:
    db.execute("UPDATE instances SET status='Completed', output='\\"never\\"'")
    db.execute("DELETE FROM messages")
    print("in transaction", flush=True)
    time.sleep(60)
"""


def test_a_host_killed_mid_transaction_loses_only_the_uncommitted_change(tmp_path):
    path = tmp_path / "store.sqlite"
    store = Store(path)
    store.create_instance(new_instance(), NOW)
    store.close()
    child = subprocess.Popen([sys.executable, "-c", KILLED_MID_TRANSACTION, str(path)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "in transaction", child.stderr.read()
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()

    reopened = Store(path)  # the dead process's lock is gone with it
    try:
        assert reopened.get_instance("i1").status == RuntimeStatus.Pending
        assert len(reopened.inbox("i1", "e1", NOW)[0]) == 1
    finally:
        reopened.close()


# -- group commit -------------------------------------------------------------------------------------
def _committed_instances(path: Path) -> list[str]:
    """What another connection sees: only committed rows."""
    with contextlib.closing(sqlite3.connect(path)) as other:
        return sorted(r[0] for r in other.execute("SELECT instance_id FROM instances"))


def test_group_commit_shares_one_commit_per_turn_and_keeps_each_verb_atomic(tmp_path):
    path = tmp_path / "store.sqlite"

    async def scenario() -> None:
        store = Store(path)
        store.enable_group_commit(asyncio.get_running_loop())
        try:
            store.create_instance(new_instance("a"), NOW)
            with pytest.raises(Conflict):
                store.create_instance(new_instance("a"), NOW)  # rolled back alone, the turn goes on
            store.create_instance(new_instance("b"), NOW)
            assert store.get_instance("b") is not None  # this connection reads its own writes at once
            assert _committed_instances(path) == []  # nobody else sees them before the turn's COMMIT

            await store.durable()

            assert _committed_instances(path) == ["a", "b"]
            assert len(store.inbox("a", None, NOW)[0]) == 1  # the failed verb left nothing behind
            await store.durable()  # nothing pending: returns at once
        finally:
            store.close()

    asyncio.run(scenario())


def test_on_commit_runs_after_the_turns_commit_or_at_once_when_nothing_is_pending(tmp_path):
    path = tmp_path / "store.sqlite"
    seen: list[tuple[str, list[str]]] = []

    async def scenario() -> None:
        store = Store(path)
        store.enable_group_commit(asyncio.get_running_loop())
        try:
            store.on_commit(lambda: seen.append(("idle", _committed_instances(path))))
            store.create_instance(new_instance("a"), NOW)
            store.on_commit(lambda: seen.append(("after a", _committed_instances(path))))
            assert seen == [("idle", [])]
            await store.durable()
        finally:
            store.close()

    asyncio.run(scenario())
    assert seen == [("idle", []), ("after a", ["a"])]


def test_closing_commits_what_the_turn_wrote(tmp_path):
    path = tmp_path / "store.sqlite"

    async def scenario() -> None:
        store = Store(path)
        store.enable_group_commit(asyncio.get_running_loop())
        store.create_instance(new_instance("a"), NOW)
        store.close()

    asyncio.run(scenario())
    assert _committed_instances(path) == ["a"]


# -- guarding the file ----------------------------------------------------------------------------
def test_the_file_is_a_wal_database_marked_as_a_devhost_store(tmp_path, store):
    db = sqlite3.connect(tmp_path / "store.sqlite")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == SCHEMA_VERSION
    finally:
        db.close()


def test_a_second_store_on_the_same_file_is_refused(tmp_path, store):
    with pytest.raises(StoreError, match=r"is in use by another devhost \(pid \d+\)"):
        Store(tmp_path / "store.sqlite")


def test_the_lock_is_released_on_close(tmp_path):
    Store(tmp_path / "s.sqlite").close()

    Store(tmp_path / "s.sqlite").close()


def test_the_store_folder_is_created(tmp_path):
    folder = tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()

    Store(folder / "store.sqlite").close()

    assert (tmp_path / "a").is_dir() and folder.is_dir()
    assert (folder / "store.sqlite").is_file()
    reopened = Store(folder / "store.sqlite")  # the file in it is a devhost store, not just a file
    try:
        assert reopened.query(Query()) == ([], None)
    finally:
        reopened.close()


def test_an_empty_file_is_a_fresh_store(tmp_path):
    (tmp_path / "s.sqlite").write_bytes(b"")

    s = Store(tmp_path / "s.sqlite")
    try:
        assert s.query(Query()) == ([], None)
    finally:
        s.close()


def test_a_foreign_sqlite_database_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO customers (name) VALUES ('Ada')")
    db.commit()
    db.close()
    before = path.read_bytes()

    with pytest.raises(StoreError, match="devhost did not create"):
        Store(path)

    assert path.read_bytes() == before
    with pytest.raises(StoreError, match="devhost did not create"):  # refused again: the lock was released
        Store(path)


@pytest.mark.parametrize("content", [b"this is not a database, just text " * 200, bytes(range(256)) * 40])
def test_a_corrupt_file_is_refused_and_left_unchanged(tmp_path, content):
    path = tmp_path / "store.sqlite"
    path.write_bytes(content)

    with pytest.raises(StoreError, match="is not a usable devhost store"):
        Store(path)

    assert path.read_bytes() == content


def test_a_store_of_another_schema_version_is_refused(tmp_path):
    path = tmp_path / "store.sqlite"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
    db.commit()
    db.close()

    with pytest.raises(StoreError, match=f"has store schema 0, this devhost needs {SCHEMA_VERSION}"):
        Store(path)


def test_stored_events_are_compact_json(tmp_path, store):
    store.create_instance(new_instance(), NOW)
    db = sqlite3.connect(tmp_path / "store.sqlite")
    try:
        text = db.execute("SELECT event FROM messages").fetchone()[0]
    finally:
        db.close()

    assert json.loads(text)["Name"] == "O" and ", " not in text


def test_a_small_purge_gives_its_pages_back_too(tmp_path):
    path = tmp_path / "big.sqlite"
    store = Store(path)
    history = [ev.orchestrator_started(T0)] + [ev.task_completed(T0, i, json.dumps("x" * 500)) for i in range(200)]
    try:
        for i in range(10):
            store.create_instance(new_instance(f"p{i}", execution_id=f"e{i}"), NOW)
            start_episode(store, f"p{i}", history=history)
        full = path.stat().st_size + Path(f"{path}-wal").stat().st_size

        assert store.purge(["p0", "p1", "p2"]) == 3  # under half: incremental auto-vacuum, no VACUUM

        assert path.stat().st_size < full * 0.8
        assert [i.instance_id for i in store.query(Query())[0]] == [f"p{i}" for i in range(3, 10)]
    finally:
        store.close()


# -- faults -------------------------------------------------------------------------------------------
def test_a_failed_group_commit_rolls_the_turn_back_and_tells_who_waits(tmp_path, caplog):
    path = tmp_path / "store.sqlite"
    seen: list[str] = []

    def disk_full(statement: str) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    async def scenario() -> None:
        store = Store(path)
        store.enable_group_commit(asyncio.get_running_loop())
        store.add_fault_listener(lambda: seen.append("listener"))
        try:
            store.fault = disk_full
            store.create_instance(new_instance("a"), NOW)
            store.on_commit(lambda: seen.append("done"), lambda: seen.append("failed"))
            with pytest.raises(StoreUnavailable, match="could not commit to the store .*: database or disk is full"):
                await store.durable()
            assert store.get_instance("a") is None  # rolled back, in this connection too
            store.create_instance(new_instance("b"), NOW)  # the next turn fails as well: logged once
            with pytest.raises(StoreUnavailable):
                await store.durable()

            store.fault = None
            store.create_instance(new_instance("c"), NOW)
            store.on_commit(lambda: seen.append("done"), lambda: seen.append("failed"))
            await store.durable()
        finally:
            store.close()

    asyncio.run(scenario())
    assert seen == ["listener", "failed", "listener", "done"]
    assert _committed_instances(path) == ["c"]
    messages = [r.getMessage() for r in caplog.records if r.name == "devhost"]
    assert len(messages) == 2, messages
    assert "failed: database or disk is full" in messages[0]
    assert "commits again after 2 failed commits" in messages[1]


def test_opening_a_ready_store_writes_nothing(tmp_path):
    path = tmp_path / "store.sqlite"
    Store(path).close()
    before = path.read_bytes()

    Store(path).close()

    assert path.read_bytes() == before


def test_a_deleted_store_file_is_noticed_and_every_write_refused(tmp_path, caplog):
    path = tmp_path / "store.sqlite"
    store = Store(path)
    try:
        store.create_instance(new_instance("a"), NOW)
        path.unlink()

        assert store.check() is False
        with pytest.raises(StoreUnavailable, match="was deleted while devhost was running"):
            store.create_instance(new_instance("b"), NOW)
        assert store.get_instance("a") is not None  # what it holds can still be read
    finally:
        store.close()
    assert not path.exists()  # closing did not make a new file either
    assert sum("was deleted while devhost was running" in r.getMessage() for r in caplog.records) == 1


def test_a_replaced_store_file_is_noticed(tmp_path):
    path = tmp_path / "store.sqlite"
    store = Store(path)
    try:
        path.rename(tmp_path / "moved.sqlite")
        path.write_bytes(b"")

        with pytest.raises(StoreUnavailable, match="was replaced by another file"):
            store.create_instance(new_instance("b"), NOW)
    finally:
        store.close()


# -- the history an episode reads comes from memory: always what the file holds once committed --------------------
def test_the_history_read_is_the_files_through_episodes_continue_as_new_rewind_replace_and_purge(tmp_path,
                                                                                                  monkeypatch):
    from devhost.runtime.store import sqlite as store_module
    from devhost.runtime.store.sqlite import read_history
    monkeypatch.setattr(store_module, "HISTORY_CACHE_BYTES", 2000)  # small: evictions, and histories outgrowing it
    path = tmp_path / "store.sqlite"
    store = Store(path)
    try:
        def same(*instance_ids: str) -> None:
            for iid in instance_ids:
                assert store.get_history(iid) == read_history(path, iid)

        for iid in ("i1", "i2"):
            store.create_instance(new_instance(iid), NOW)
            start_episode(store, iid)
        same("i1", "i2")
        for step in range(3):  # appended episode after episode, i2's reads in between evicting i1
            store.commit_episode(store.get_instance("i1"), EpisodeOutcome(
                [ev.orchestrator_started(T0), ev.task_completed(T0, step, f'"{step}"')], RuntimeStatus.Running),
                at(step))
            same("i1", "i2")
        nxt = NewInstance("i1", "O", "e2", "2", None, ev.execution_started(T0, "i1", "e2", "O", "2"))
        store.commit_episode(store.get_instance("i1"), EpisodeOutcome(
            [ev.orchestrator_started(T0)], RuntimeStatus.ContinuedAsNew, continue_as_new=nxt), at(5))
        same("i1")
        assert store.get_history("i1") == []
        finish(store, "i2", status=RuntimeStatus.Failed, output='"boom"')
        kept = [ev.orchestrator_started(T0), ev.execution_started(T0, "i2", "e1", "O", None)]
        store.rewind(store.get_instance("i2"), kept, [], [], at(6))
        same("i2")
        finish(store, "i2")
        store.create_instance(new_instance("i2", execution_id="e9"), at(7))  # a finished instance replaced
        same("i2")
        assert store.get_history("i2") == []
        store.purge(["i1", "i2"])
        same("i1", "i2")
    finally:
        store.close()


def test_a_rolled_back_episode_leaves_no_history_behind_in_memory(tmp_path):
    from devhost.runtime.store.sqlite import read_history
    path = tmp_path / "store.sqlite"

    def disk_full(statement: str) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    async def scenario() -> tuple[list, list]:
        store = Store(path)
        store.enable_group_commit(asyncio.get_running_loop())
        try:
            store.create_instance(new_instance(), NOW)
            start_episode(store)
            await store.durable()
            store.get_history("i1")  # in memory now
            store.fault = disk_full
            store.commit_episode(store.get_instance("i1"), EpisodeOutcome(
                [ev.orchestrator_started(T0), ev.task_completed(T0, 0, '"lost"')], RuntimeStatus.Running), at(1))
            with pytest.raises(StoreUnavailable):
                await store.durable()
            store.fault = None
            return store.get_history("i1"), read_history(path, "i1")
        finally:
            store.close()

    read, on_file = asyncio.run(scenario())
    assert read == on_file and len(read) == 3  # the first episode's three events, not the rolled-back two


def test_an_episode_reads_the_history_the_last_commit_left_without_a_query(store):
    store.create_instance(new_instance(), NOW)
    start_episode(store)
    store.get_history("i1")
    store.commit_episode(store.get_instance("i1"), EpisodeOutcome(
        [ev.orchestrator_started(T0), ev.task_completed(T0, 0, '"0"')], RuntimeStatus.Running), at(1))
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    try:
        history = store.get_history("i1")
    finally:
        store._db.set_trace_callback(None)

    assert [e["EventType"] for e in history][-2:] == [EventType.OrchestratorStarted, EventType.TaskCompleted]
    assert len(history) == 5 and not [s for s in statements if "FROM history" in s]

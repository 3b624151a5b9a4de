"""The Store contract (devhost.runtime.store.contract), run against every backend in backends.BACKENDS: what each
verb returns, what it changes, and that each change is one transaction. A new backend passes this suite as it is;
what only the SQLite file promises (its lock, WAL, foreign files, group commit) is in test_sqlite.py."""
from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterator

import pytest
from store_helpers import NOW, T0, at, finish, new_instance, snapshot, start_episode

from devhost.errors import BadRequest, Conflict
from devhost.model import (
    ActivityWork,
    EntityQuery,
    EpisodeOutcome,
    EventType,
    Instance,
    InstanceOrder,
    Listing,
    NewInstance,
    OutgoingMessage,
    Query,
    RuntimeStatus,
    ScheduledActivity,
)
from devhost.protocol import history_events as ev
from devhost.runtime.store.backends import BACKENDS, open_store
from devhost.runtime.store.contract import Store


@pytest.fixture(params=sorted(BACKENDS))
def reopen(request, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Open the backend's store at one place in tmp_path, as often as a test needs (a restart); all closed after."""
    opened: list[Store] = []

    def open_again() -> Store:
        store = open_store(tmp_path / "store", backend=request.param)
        opened.append(store)
        return store
    yield open_again
    for store in opened:
        try:
            store.close()
        except Exception:  # closed by the test already
            pass


@pytest.fixture
def store(reopen) -> Store:
    return reopen()


def _token(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).decode()


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


def test_an_episodes_history_comes_with_each_events_stored_text_played_before_and_after_a_restart(reopen):
    store = reopen()
    store.create_instance(new_instance(), NOW)
    start_episode(store)
    instance = store.get_instance("i1")
    store.commit_episode(instance, EpisodeOutcome([ev.orchestrator_started(T0), ev.event_raised(T0, "e", '"\\"x"'),
                                                   ev.orchestrator_completed(T0)], RuntimeStatus.Running), NOW)

    in_memory = store.episode_history("i1")
    store.close()
    store = reopen()
    for events, texts in (in_memory, store.episode_history("i1")):
        assert events == store.get_history("i1") and len(events) == 6
        assert [json.loads(t) for t in texts] == [dict(e, IsPlayed=True) for e in events]
    assert store.episode_history("nope") == ([], [])


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


def test_a_suspend_still_in_the_inbox_after_a_restart_keeps_its_status(reopen):
    """A store may remember which inboxes hold a suspend or resume in memory only: a reopened store reads it again."""
    first = reopen()
    first.create_instance(new_instance(), NOW)
    started = first.inbox("i1", None, NOW)[0]
    first.add_message(OutgoingMessage("i1", ev.execution_suspended(T0, "why")), RuntimeStatus.Suspended, at(1))
    first.close()

    store = reopen()
    try:
        history = [ev.orchestrator_started(T0), started[0][1], ev.orchestrator_completed(T0)]
        store.commit_episode(store.get_instance("i1"), EpisodeOutcome(history, RuntimeStatus.Running,
                                                                      consumed=[started[0][0]]), at(2))
        assert store.get_instance("i1").status == RuntimeStatus.Suspended
    finally:
        store.close()


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


def test_query_lists_entities_only_when_asked_as_the_azure_storage_provider_does(many):
    # the management API's query (DurableTask.AzureStorage's Instances table holds entities); not the dashboard's
    assert ids(many.query(Query(entities=True))) == ["@counter@k", "a0", "a1", "a2", "b0", "b1"]
    assert ids(many.query(Query(entities=True, statuses=frozenset({RuntimeStatus.Running})))) == ["@counter@k", "b0"]
    assert ids(many.query(Query(entities=True, prefix="@"))) == ["@counter@k"]
    first = many.query(Query(entities=True, top=1))
    assert ids(many.query(Query(entities=True, top=1, continuation=first[1]))) == ["a0"]


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


# -- the dashboard's listing: sorted pages and counts --------------------------------------------------------
def listed(store, order=InstanceOrder.createdTime, descending=True, offset=0, top=25, **filters):
    return [i.instance_id for i in store.list_instances(Listing(Query(**filters), order, descending, offset, top))]


def test_list_instances_is_newest_first_by_default_and_never_lists_entities(many):
    assert listed(many) == ["b1", "b0", "a2", "a1", "a0"]
    assert listed(many, descending=False) == ["a0", "a1", "a2", "b0", "b1"]


def test_list_instances_pages_by_offset_and_is_empty_past_the_end(many):
    assert listed(many, top=2) == ["b1", "b0"]
    assert listed(many, top=2, offset=2) == ["a2", "a1"]
    assert listed(many, top=2, offset=4) == ["a0"]
    assert listed(many, top=2, offset=6) == []


def test_list_instances_sorts_by_each_order_with_ties_by_created_time(many):
    many.create_instance(new_instance("c0", name="Alpha", execution_id="y0"), at(10))
    many.create_instance(new_instance("c1", name="Zulu", execution_id="y1"), at(5))

    assert listed(many, InstanceOrder.name, descending=False) == ["c0", "a0", "a1", "a2", "b0", "b1", "c1"]
    assert listed(many, InstanceOrder.name) == ["c1", "b1", "b0", "a2", "a1", "a0", "c0"]
    # Completed < Pending < Running, ties newest first: status names sort as text
    assert listed(many, InstanceOrder.runtimeStatus, descending=False)[:3] == ["a0", "a1", "a2"]
    assert listed(many, InstanceOrder.runtimeStatus) == ["b0", "c0", "c1", "b1", "a2", "a1", "a0"]
    # a0..a2 and b0 were last updated at NOW (their episodes), b1 at its creation, c0 and c1 later still
    assert listed(many, InstanceOrder.lastUpdatedTime) == ["c0", "c1", "b1", "b0", "a2", "a1", "a0"]


def test_list_instances_keeps_the_filters(many):
    many.create_instance(new_instance("c0", name="SendEmails", execution_id="y0"), at(10))

    assert listed(many, statuses=frozenset({RuntimeStatus.Running, RuntimeStatus.Pending})) == ["c0", "b1", "b0"]
    assert listed(many, prefix="a", top=2) == ["a2", "a1"]
    assert listed(many, name="email") == ["c0"]  # part of the name, any case
    assert listed(many, created_from=T0 + timedelta(seconds=1), created_to=T0 + timedelta(seconds=3)) == \
        ["b0", "a2", "a1"]


def test_count_by_status_counts_what_matches_and_leaves_out_empty_statuses(many):
    assert many.count_by_status(Query()) == {RuntimeStatus.Completed: 3, RuntimeStatus.Running: 1,
                                             RuntimeStatus.Pending: 1}  # the entity is not counted
    assert many.count_by_status(Query(prefix="b")) == {RuntimeStatus.Running: 1, RuntimeStatus.Pending: 1}
    assert many.count_by_status(Query(statuses=frozenset({RuntimeStatus.Completed}))) == {RuntimeStatus.Completed: 3}
    assert many.count_by_status(Query(name="nothing")) == {}


def test_list_and_count_on_an_empty_store(store):
    assert listed(store) == [] and store.count_by_status(Query()) == {}


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
def test_work_survives_closing_and_reopening(reopen):
    first = reopen()
    first.create_instance(new_instance(), NOW)
    (work,), _ = start_episode(first, activities=[ScheduledActivity(0, "Hello", '"Tokyo"')])
    first.add_message(OutgoingMessage("i1", ev.timer_fired(T0, 1, "x"), at(60)))
    first.close()

    second = reopen()
    try:
        assert second.pending_work() == ([work], [("i1", at(60))])
        assert second.get_instance("i1").status == RuntimeStatus.Running
        assert len(second.get_history("i1")) == 3
    finally:
        second.close()

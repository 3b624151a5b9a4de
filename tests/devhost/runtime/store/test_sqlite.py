"""devhost.runtime.store.sqlite: what the SQLite backend promises beyond the Store contract (test_contract.py): the
transaction boundaries of its file (rollback, a host killed mid-transaction, group commit), its schema version,
its disk space, its indexes and its in-memory histories. How the file itself is guarded is test_sqlite_file.py."""
from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
from store_helpers import NOW, T0, at, finish, new_instance, snapshot, start_episode

from devhost.errors import Conflict, StoreError, StoreUnavailable
from devhost.model import (
    EpisodeOutcome,
    EventType,
    InstanceOrder,
    Listing,
    NewInstance,
    OutgoingMessage,
    Query,
    RuntimeStatus,
    ScheduledActivity,
)
from devhost.protocol import history_events as ev
from devhost.runtime.store.sqlite import SCHEMA_VERSION, SqliteStore

ROOT = Path(__file__).resolve().parents[4]


# -- group commit -------------------------------------------------------------------------------------
def _committed_instances(path: Path) -> list[str]:
    """What another connection sees: only committed rows."""
    with contextlib.closing(sqlite3.connect(path)) as other:
        return sorted(r[0] for r in other.execute("SELECT instance_id FROM instances"))


def test_a_rolled_back_episode_gives_its_consumed_resume_back_to_the_next_one(tmp_path):
    """An episode that consumed the inbox's resume and failed to commit leaves the resume in the inbox; the next
    episode, which does not consume it, still shows Running."""
    path = tmp_path / "store.sqlite"

    def disk_full(statement: str) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    async def scenario() -> RuntimeStatus:
        store = SqliteStore(path)
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


def test_commit_episode_is_atomic_when_a_statement_fails_midway(store, monkeypatch):
    store.create_instance(new_instance(), NOW)
    before = snapshot(store, "i1")
    (start_id, started), = store.inbox("i1", "e1", NOW)[0]

    def disk_full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(SqliteStore, "_insert_messages", disk_full)  # after history, status and activities are written
    with pytest.raises(StoreUnavailable, match="database or disk is full"):
        outcome = EpisodeOutcome([ev.orchestrator_started(T0), started], RuntimeStatus.Completed, output='"out"',
                                 consumed=[start_id], activities=[ScheduledActivity(0, "Hello", None)],
                                 messages=[OutgoingMessage("i1", ev.event_raised(T0, "x", None))])
        store.commit_episode(store.get_instance("i1"), outcome, at(1))

    monkeypatch.undo()
    assert snapshot(store, "i1") == before


def test_a_purge_gives_the_disk_space_back(tmp_path):
    path = tmp_path / "big.sqlite"
    store = SqliteStore(path)
    history = [ev.orchestrator_started(T0)] + [ev.task_completed(T0, i, json.dumps("x" * 500)) for i in range(200)]
    for i in range(50):
        store.create_instance(new_instance(f"p{i}", execution_id=f"e{i}"), NOW)
        start_episode(store, f"p{i}", history=history)
    store.close()
    full = path.stat().st_size
    store = SqliteStore(path)
    try:
        assert store.purge([f"p{i}" for i in range(50)]) == 50
        assert path.stat().st_size < full / 4  # the file itself shrank ...
        assert Path(f"{path}-wal").stat().st_size == 0  # ... and the WAL holds nothing after the checkpoint
    finally:
        store.close()


KILLED_MID_TRANSACTION = """
import sys, time
from devhost.runtime.store.sqlite import SqliteStore
store = SqliteStore(sys.argv[1])
with store.tx() as db:
    db.execute("UPDATE instances SET status='Completed', output='\\"never\\"'")
    db.execute("DELETE FROM messages")
    print("in transaction", flush=True)
    time.sleep(60)
"""


def test_a_host_killed_mid_transaction_loses_only_the_uncommitted_change(tmp_path):
    path = tmp_path / "store.sqlite"
    store = SqliteStore(path)
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

    reopened = SqliteStore(path)  # the dead process's lock is gone with it
    try:
        assert reopened.get_instance("i1").status == RuntimeStatus.Pending
        assert len(reopened.inbox("i1", "e1", NOW)[0]) == 1
    finally:
        reopened.close()


def test_group_commit_shares_one_commit_per_turn_and_keeps_each_verb_atomic(tmp_path):
    path = tmp_path / "store.sqlite"

    async def scenario() -> None:
        store = SqliteStore(path)
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
        store = SqliteStore(path)
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
        store = SqliteStore(path)
        store.enable_group_commit(asyncio.get_running_loop())
        store.create_instance(new_instance("a"), NOW)
        store.close()

    asyncio.run(scenario())
    assert _committed_instances(path) == ["a"]


def test_a_store_of_another_schema_version_is_refused(tmp_path):
    path = tmp_path / "store.sqlite"
    SqliteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
    db.commit()
    db.close()

    with pytest.raises(StoreError, match=f"has store schema 0, this devhost needs {SCHEMA_VERSION}"):
        SqliteStore(path)


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
    store = SqliteStore(path)
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
        store = SqliteStore(path)
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


# -- the history an episode reads comes from memory: always what the file holds once committed --------------------
def test_the_history_read_is_the_files_through_episodes_continue_as_new_rewind_replace_and_purge(tmp_path,
                                                                                                  monkeypatch):
    from devhost.runtime.store import history_cache
    from devhost.runtime.store.sqlite import read_history
    monkeypatch.setattr(history_cache, "DEFAULT_LIMIT", 2000)  # small: evictions, and histories outgrowing it
    path = tmp_path / "store.sqlite"
    store = SqliteStore(path)
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
        store = SqliteStore(path)
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


# -- the dashboard's listing reads indexes -------------------------------------------------------------------------
def _plans(store: SqliteStore, read: Callable[[], object]) -> list[str]:
    """The query plan of every statement `read` runs, as SQLite explains it."""
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    try:
        read()
    finally:
        store._db.set_trace_callback(None)
    return [" / ".join(row[-1] for row in store._db.execute(f"EXPLAIN QUERY PLAN {sql}")) for sql in statements]


@pytest.mark.parametrize("order", list(InstanceOrder))
@pytest.mark.parametrize("descending", [True, False])
def test_every_order_of_the_listing_is_read_from_an_index_without_sorting(store, order, descending):
    listing = Listing(Query(), order, descending, offset=50, top=25)
    (plan,) = _plans(store, lambda: store.list_instances(listing))

    assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan


def test_counting_by_status_reads_one_covering_index(store):
    (plan,) = _plans(store, lambda: store.count_by_status(Query(prefix="a", created_from=T0)))

    assert "USING COVERING INDEX instances_by_kind_status" in plan and "TEMP B-TREE" not in plan, plan


def test_an_older_store_gets_the_listings_indexes_when_opened(tmp_path):
    path = tmp_path / "store.sqlite"
    SqliteStore(path).close()
    db = sqlite3.connect(path)
    db.executescript("DROP INDEX instances_by_kind_status; DROP INDEX instances_by_updated; DROP INDEX instances_by_name;"
                     "CREATE INDEX instances_by_status ON instances (status, created_at, instance_id);")
    db.close()

    SqliteStore(path).close()

    db = sqlite3.connect(path)
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    db.close()
    assert {"instances_by_kind_status", "instances_by_updated", "instances_by_name"} <= names
    assert "instances_by_status" not in names


def test_read_orchestrations_reads_a_snapshot_read_only_narrowed_by_status_and_id(tmp_path):
    from devhost.errors import StoreError
    from devhost.runtime.store.sqlite import read_orchestrations

    path = tmp_path / "s.sqlite"
    store = SqliteStore(path)
    try:
        for iid, name in (("a", "One"), ("b", "Two")):
            store.create_instance(NewInstance(iid, name, "e-" + iid, None, None,
                                              ev.execution_started(T0, iid, "e-" + iid, name, None)), 1.0)
        found = read_orchestrations(path)
        pending = read_orchestrations(path, frozenset({RuntimeStatus.Pending}), "b")
        running = read_orchestrations(path, frozenset({RuntimeStatus.Running}))
    finally:
        store.close()
    (tmp_path / "other.sqlite").write_bytes(b"")

    assert [(i.instance_id, i.name) for i, _ in found] == [("a", "One"), ("b", "Two")]
    assert [i.instance_id for i, _ in pending] == ["b"] and running == []
    with pytest.raises(StoreError, match="not a devhost store"):
        read_orchestrations(tmp_path / "other.sqlite")

"""The SQLite store: instances, history, inbox messages and scheduled activities. The only module that speaks SQL;
every verb that changes state is one transaction."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import heapq
import json
import logging
import math
import os
import re
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from devhost.errors import BadRequest, Conflict, StoreError, StoreUnavailable
from devhost.model import (
    TERMINAL_STATUSES,
    ActivityWork,
    EntityQuery,
    EpisodeOutcome,
    EventType,
    Instance,
    InstanceOrder,
    Listing,
    Message,
    NewInstance,
    OutgoingMessage,
    Query,
    RuntimeStatus,
    ScheduledActivity,
)
from devhost.runtime.store.history_cache import HistoryCache
from devhost.runtime.store.sqlite_file import APPLICATION_ID, StoreFile

SCHEMA_VERSION = "1"

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS instances (
    instance_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    execution_id TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    custom_status TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    parent_instance_id TEXT,
    is_entity INTEGER NOT NULL DEFAULT 0,
    next_seq INTEGER NOT NULL DEFAULT 0
);
DROP INDEX IF EXISTS instances_by_created;
DROP INDEX IF EXISTS instances_by_status;
CREATE INDEX IF NOT EXISTS instances_by_kind_created ON instances (is_entity, created_at, instance_id);
CREATE INDEX IF NOT EXISTS instances_by_kind_status ON instances (is_entity, status, created_at, instance_id);
CREATE INDEX IF NOT EXISTS instances_by_updated ON instances (is_entity, updated_at, instance_id);
CREATE INDEX IF NOT EXISTS instances_by_name ON instances (is_entity, name, created_at, instance_id);
CREATE TABLE IF NOT EXISTS history (
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    execution_id TEXT,
    event TEXT NOT NULL,
    visible_at REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_by_instance ON messages (instance_id, id);
CREATE INDEX IF NOT EXISTS messages_by_visible ON messages (visible_at);
CREATE TABLE IF NOT EXISTS activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    input TEXT
);
CREATE INDEX IF NOT EXISTS activities_by_instance ON activities (instance_id);
"""

_STEERING = frozenset({EventType.ExecutionSuspended, EventType.ExecutionResumed})
_STEERING_PATTERNS = tuple(f'%"EventType":{t},%' for t in sorted(_STEERING))
_SCHEMA = frozenset(re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", DDL))  # what a ready store has
log = logging.getLogger("devhost")
# The columns each order of the dashboard's listing sorts by, before the id; each list is an index's tail.
_ORDER_COLUMNS = {InstanceOrder.createdTime: ("created_at",), InstanceOrder.lastUpdatedTime: ("updated_at",),
                  InstanceOrder.name: ("name", "created_at"), InstanceOrder.runtimeStatus: ("status", "created_at")}
_INSTANCE_COLUMNS = ("instance_id, name, version, execution_id, status, input, output, custom_status, "
                     "created_at, updated_at, parent_instance_id")


def _instance(row: tuple[Any, ...]) -> Instance:
    """The one place a row becomes an Instance."""
    return Instance(instance_id=row[0], name=row[1], version=row[2], execution_id=row[3],
                    status=RuntimeStatus(row[4]), input=row[5], output=row[6], custom_status=row[7],
                    created_at=datetime.fromtimestamp(row[8], timezone.utc),
                    updated_at=datetime.fromtimestamp(row[9], timezone.utc), parent_instance_id=row[10])


def _time_range(where: list[str], args: list[Any], column: str, start: datetime | None, end: datetime | None) -> None:
    """Add `start <= column <= end` (either bound optional) to a WHERE clause being built."""
    if start:
        where.append(f"{column} >= ?")
        args.append(start.timestamp())
    if end:
        where.append(f"{column} <= ?")
        args.append(end.timestamp())


def _limit(top: int | None) -> int:
    return top if top and top > 0 else 100


def _cut(rows: list[tuple[Any, ...]], top: int | None) -> tuple[list[tuple[Any, ...]], tuple[Any, ...] | None]:
    """Rows read one beyond the page: the page, and its last row when more follow (None at the end)."""
    limit = _limit(top)
    return (rows[:limit], rows[limit - 1]) if len(rows) > limit else (rows, None)


def _token(position: list[Any]) -> str:
    """The continuation token of a page that ends at `position` (the sort key of its last row)."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def _position(token: str, *kinds: type) -> list[Any]:
    """The sort key a continuation token continues after, checked against the kinds it must have before any of it
    reaches SQL: a str that is UTF-8 text, a finite float or an int within SQLite's 64 bits (never a bool);
    BadRequest for a token this store did not make, however it is malformed (deep nesting included)."""
    try:
        position = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, TypeError, RecursionError) as exc:
        raise BadRequest("The continuation token is not one this host gave out.") from exc
    if not isinstance(position, list) or len(position) != len(kinds) or not all(
            _text(v) if k is str else _number(v) for v, k in zip(position, kinds)):
        raise BadRequest("The continuation token is not one this host gave out.")
    return position


def _text(value: Any) -> bool:
    """A str SQLite can take: a lone surrogate cannot be encoded as UTF-8."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _number(value: Any) -> bool:
    """A number SQLite can take: a finite float, or an int within 64 bits (a float position is taken as an int)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63


_ENCODER = json.JSONEncoder(separators=(",", ":"))  # one for every event: json.dumps(..., separators=) makes one each


def _dumps(event: dict[str, Any]) -> str:
    return _ENCODER.encode(event)


class _FaultLog:
    """Says what happens to the store's commits: the first failure of an outage with its cause, a reminder at most
    every REMIND seconds while failures go on (never one line per row), and the recovery."""

    REMIND = 10.0

    def __init__(self, path: Path) -> None:
        self.path = path
        self.since: float | None = None  # monotonic time of the outage's first failed commit
        self.failures = 0
        self.reminded = 0.0

    def failed(self, cause: str) -> None:
        now = time.monotonic()
        self.failures += 1
        if self.since is None:
            self.since = self.reminded = now
            log.error("devhost: a commit to the store %s failed: %s. What it held is still in the store and runs "
                      "again once the store accepts writes.", self.path, cause)
        elif now - self.reminded >= self.REMIND:
            self.reminded = now
            log.error("devhost: the store %s still cannot commit (%s): %d commits failed in %.0f s", self.path,
                      cause, self.failures, now - self.since)

    def committed(self) -> None:
        if self.since is not None:
            log.warning("devhost: the store %s commits again after %d failed commits over %.1f s; the work they "
                        "held runs again", self.path, self.failures, time.monotonic() - self.since)
            self.since, self.failures = None, 0


class SqliteStore:
    """The Store contract (contract.py) over one SQLite file. Not thread-safe: devhost calls it from its event loop
    thread only."""

    def __init__(self, path: str | os.PathLike[str], durability: str = "normal") -> None:
        self.path = Path(path)
        self._loop: asyncio.AbstractEventLoop | None = None  # set by enable_group_commit
        self._batch: asyncio.Future[None] | None = None  # the open shared transaction, if any
        # Run once the open transaction is committed (first) or once it failed (second, may be None).
        self._after_commit: list[tuple[Callable[[], None], Callable[[], None] | None]] = []
        self._fault_listeners: list[Callable[[], None]] = []
        self._faults = _FaultLog(self.path)
        self.fault: Callable[[str], None] | None = None  # test hook at the commit boundary; may raise sqlite3.Error
        # Instances that may have an ExecutionSuspended/ExecutionResumed in their inbox (None: read it again from
        # the store), so that an episode's commit looks for one only where there can be one.
        self._steered: set[str] | None = None
        # The decoded histories of the instances whose episodes ran last, as this connection sees them: an episode
        # reads its history from here, not from the file. Forgotten on every rollback.
        self._histories = HistoryCache()
        self.file = StoreFile(self.path)  # the lock, whose WAL, noticing the file replaced
        try:
            self._db = self._open(durability)
        except Exception:
            self.file.refused()
            raise
        self.file.opened(self._db)

    # -- opening ----------------------------------------------------------------------------
    def _open(self, durability: str) -> sqlite3.Connection:
        fresh = self.file.prepare()
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from exc
        try:
            if fresh:
                self._mark(db)
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        except sqlite3.DatabaseError as exc:
            db.close()
            raise self.file.unusable(exc, "create" if fresh else "open") from exc
        try:
            self._prepare(db, durability, ready=app_id == APPLICATION_ID and _SCHEMA <= tables | indexes)
        except sqlite3.Error as exc:
            db.close()
            raise StoreError(f"cannot {'create' if fresh else 'open'} the store {self.path}: {exc}"
                             f"{self.file.disk_hint()}") from exc
        except StoreError:
            db.close()
            raise
        return db

    @staticmethod
    def _mark(db: sqlite3.Connection) -> None:
        """Mark a new file as a devhost store with an id of its own, written into the file itself before it turns
        to WAL mode (a rollback-journal commit writes the file at once): its first page says whose it is even to a
        reader that ignores the WAL, and the id tells this store from a copy of another one later put in its place."""
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # only before the first table: a purge then frees disk space
        db.execute("BEGIN IMMEDIATE")
        db.execute(f"PRAGMA application_id={APPLICATION_ID}")
        db.execute(f"PRAGMA user_version={int.from_bytes(os.urandom(4), 'big') & 0x7FFFFFFF or 1}")
        db.execute("COMMIT")

    def _prepare(self, db: sqlite3.Connection, durability: str, ready: bool) -> None:
        """Connection settings, and the schema when the file does not have it yet: a store that is ready is only
        read at start-up, so devhost starts on a full disk and tells what fails when it writes."""
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={'FULL' if durability == 'full' else 'NORMAL'}")
        db.execute("PRAGMA foreign_keys=OFF")
        db.execute("PRAGMA temp_store=MEMORY")
        db.execute("PRAGMA cache_size=-32000")
        db.execute("PRAGMA journal_size_limit=67108864")  # the WAL shrinks back to 64 MB after a checkpoint
        if ready:
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is not None and row[0] == SCHEMA_VERSION:
                return
        with self._tx(db):
            db.execute(f"PRAGMA application_id={APPLICATION_ID}")
            for statement in DDL.split(";"):
                if statement.strip():
                    db.execute(statement)
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            elif row[0] != SCHEMA_VERSION:
                raise StoreError(f"{self.path} has store schema {row[0]}, this devhost needs {SCHEMA_VERSION}")

    def close(self) -> None:
        self._commit_batch()
        if self.check():
            self._checkpoint()
        self.file.close(self._db)

    # -- faults -------------------------------------------------------------------------------
    @property
    def lost(self) -> str | None:
        """Why the store file can no longer be used (deleted, replaced or overwritten while devhost ran); None."""
        return self.file.lost

    def check(self) -> bool:
        """False once the store file was deleted, replaced or overwritten by another program while devhost ran
        (noticed at every commit, by the dispatcher's periodic scan, at close): every write is refused then."""
        return self.file.check()

    def add_fault_listener(self, listener: Callable[[], None]) -> None:
        """Call listener() after any write that failed and was rolled back (e.g. for the dispatcher to run again
        what the store still holds)."""
        self._fault_listeners.append(listener)

    def _writable(self) -> None:
        if not self.check():
            raise StoreUnavailable(self.lost or "")

    def _failed(self, exc: BaseException) -> StoreUnavailable:
        """A write or commit failed and was rolled back: say so (once per outage) and tell the listeners."""
        if isinstance(exc, StoreUnavailable):
            error = exc
        else:
            error = StoreUnavailable(f"could not commit to the store {self.path}: {exc}")
            self._faults.failed(str(exc))
        for listener in self._fault_listeners:
            listener()
        return error

    def _rolled_back(self) -> None:
        """What a rollback took back may be in the in-memory views of the store: read them again from the file."""
        self._steered = None
        self._histories.clear()

    def _commit(self, db: sqlite3.Connection) -> None:
        self._writable()
        if self.fault is not None:
            self.fault("COMMIT")
        db.execute("COMMIT")
        self.file.wrote()

    @contextlib.contextmanager
    def _tx(self, db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        try:  # a store file deleted or replaced is noticed at the COMMIT (_commit), which then rolls back
            db.execute("BEGIN IMMEDIATE")
        except (sqlite3.Error, StoreUnavailable) as exc:
            raise self._failed(exc) from exc
        try:
            yield db
            self._commit(db)
        except BaseException as exc:
            self._rolled_back()  # what the transaction consumed is back in the inboxes
            with contextlib.suppress(sqlite3.Error):
                if db.in_transaction:
                    db.execute("ROLLBACK")
            if isinstance(exc, (sqlite3.Error, StoreUnavailable)):
                raise self._failed(exc) from exc
            raise
        self._faults.committed()

    def tx(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """The transaction of one verb: its own BEGIN IMMEDIATE ... COMMIT, or with group commit on, a savepoint
        in the turn's shared transaction. Either way the verb is all or nothing; a write that fails raises
        StoreUnavailable."""
        return self._grouped() if self._loop is not None else self._tx(self._db)

    # -- group commit -------------------------------------------------------------------------
    def enable_group_commit(self, loop: asyncio.AbstractEventLoop) -> None:
        """From now on the verbs called in one turn of the event loop share one COMMIT, made at the end of the
        turn: one WAL write (and with durability=full one fsync) for many state changes. Whoever answers the
        outside world about a change awaits durable() first."""
        self._loop = loop

    @contextlib.contextmanager
    def _grouped(self) -> Iterator[sqlite3.Connection]:
        db = self._db
        try:
            if self._batch is None:  # a deleted or replaced store file is noticed at the COMMIT
                db.execute("BEGIN IMMEDIATE")
                assert self._loop is not None
                self._batch = self._loop.create_future()
                self._batch.add_done_callback(lambda f: f.cancelled() or f.exception())  # never "not retrieved"
                self._loop.call_soon(self._commit_batch)
            db.execute("SAVEPOINT verb")
        except (sqlite3.Error, StoreUnavailable) as exc:
            raise self._abort_batch(exc) from exc
        try:
            yield db
        except BaseException as exc:
            self._rolled_back()  # what the verb consumed is back in the inboxes
            if not db.in_transaction:  # SQLite rolled the whole turn back (disk full, I/O error)
                raise self._abort_batch(exc) from exc
            try:
                db.execute("ROLLBACK TO verb")
                db.execute("RELEASE verb")
            except sqlite3.Error as broken:
                raise self._abort_batch(broken) from exc
            if isinstance(exc, sqlite3.Error):  # this verb's write failed; the rest of the turn may still commit
                raise self._failed(exc) from exc
            raise
        try:
            db.execute("RELEASE verb")
        except sqlite3.Error as exc:
            raise self._abort_batch(exc) from exc

    def _abort_batch(self, exc: BaseException) -> StoreUnavailable:
        """The turn's transaction failed: roll all of it back, fail whoever waits for it, and say so."""
        batch, self._batch = self._batch, None
        after, self._after_commit = self._after_commit, []
        self._rolled_back()
        with contextlib.suppress(sqlite3.Error):
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        error = self._failed(exc)
        if batch is not None:
            batch.set_exception(error)
        for _, failed in after:
            if failed is not None:
                failed()
        return error

    def _commit_batch(self) -> None:
        if self._batch is None:
            return
        try:
            self._commit(self._db)
        except (sqlite3.Error, StoreUnavailable) as exc:  # e.g. disk full: the turn's changes are gone
            self._abort_batch(exc)
            return
        batch, self._batch = self._batch, None
        after, self._after_commit = self._after_commit, []
        self._faults.committed()
        batch.set_result(None)
        for done, _ in after:
            done()

    def on_commit(self, done: Callable[[], None], failed: Callable[[], None] | None = None) -> None:
        """Run done() once what has been written is committed (at once when nothing is pending), or failed() when
        that commit fails and is rolled back."""
        if self._batch is None:
            done()
        else:
            self._after_commit.append((done, failed))

    def idle(self) -> bool:
        """Nothing written is waiting for its commit."""
        return self._batch is None

    async def durable(self) -> None:
        """Return once everything written so far is committed (at once without group commit); StoreUnavailable
        when its commit failed."""
        if self._batch is not None:
            await asyncio.shield(self._batch)

    # -- reading ----------------------------------------------------------------------------
    def get_instance(self, instance_id: str) -> Instance | None:
        """The instance, or None when there is none with that id."""
        row = self._db.execute(f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE instance_id=?",
                               (instance_id,)).fetchone()
        return _instance(row) if row else None

    def get_history(self, instance_id: str) -> list[dict[str, Any]]:
        """The instance's history events in order (a new list; the events themselves are not to be changed)."""
        return self.episode_history(instance_id)[0]

    def episode_history(self, instance_id: str) -> tuple[list[dict[str, Any]], list[str]]:
        """The instance's history events in order and each one's stored JSON text (new lists; the events are not to
        be changed). The texts are what an episode's orchestration context is joined from, so that no event is
        encoded again for every later episode."""
        cached = self._histories.get_with_texts(instance_id)
        if cached is not None:
            return cached
        texts = [r[0] for r in self._db.execute("SELECT event FROM history WHERE instance_id=? ORDER BY seq",
                                                (instance_id,))]
        history = [json.loads(text) for text in texts]
        self._histories.put(instance_id, history, texts)
        return list(history), list(texts)

    def inbox(self, instance_id: str, current_execution: str | None,
              now: float) -> tuple[list[tuple[int, dict[str, Any]]], list[int]]:
        """Visible messages for the instance's current execution, and the ids of stale ones (other executions)."""
        live, stale = [], []
        rows = self._db.execute("SELECT id, execution_id, event FROM messages WHERE instance_id=? AND "
                                "visible_at<=? ORDER BY id", (instance_id, now))
        for msg_id, execution_id, text in rows:
            if execution_id is not None and current_execution is not None and execution_id != current_execution:
                stale.append(msg_id)
            else:
                live.append((msg_id, json.loads(text)))
        return live, stale

    def query(self, q: Query) -> tuple[list[Instance], str | None]:
        """Orchestration instances (and entities with q.entities) matching q, oldest first, one page; and the next
        page's token.
        With a status filter, each status is read in order from its own index range and the ranges are merged,
        so a page costs the same whether few or all of the instances have that status."""
        where, args = self._where(q, with_statuses=False)
        if q.continuation:
            created, last_id = _position(q.continuation, float, str)
            where.append("(created_at > ? OR (created_at = ? AND instance_id > ?))")
            args += [created, created, last_id]
        sql = f"SELECT {_INSTANCE_COLUMNS}, created_at FROM instances WHERE {' AND '.join(where)}{{status}} " \
              "ORDER BY created_at, instance_id"
        if q.statuses:
            runs = [self._page(sql.format(status=" AND status=?"), [*args, s.value], q.top, whole=True)[0]
                    for s in sorted(q.statuses, key=lambda s: s.value)]
            rows, last = _cut(list(heapq.merge(*runs, key=lambda r: (r[-1], r[0]))), q.top)
        else:
            rows, last = self._page(sql.format(status=""), args, q.top)
        token = None if last is None else _token([last[-1], last[0]])
        return [_instance(r[:-1]) for r in rows], token

    def list_instances(self, listing: Listing) -> list[Instance]:
        """One page of orchestration instances matching the listing's filters, sorted as it asks. Every order is
        read from an index (created; updated; name, created; status, created), ties by id."""
        where, args = self._where(listing.filters)
        way = "DESC" if listing.descending else "ASC"
        keys = _ORDER_COLUMNS[listing.order] + ("instance_id",)
        rows = self._db.execute(f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE {' AND '.join(where)} "
                                f"ORDER BY {', '.join(f'{k} {way}' for k in keys)} LIMIT ? OFFSET ?",
                                (*args, max(0, listing.top), max(0, listing.offset))).fetchall()
        return [_instance(r) for r in rows]

    def count_by_status(self, q: Query) -> dict[RuntimeStatus, int]:
        """How many orchestration instances match q, by status; statuses with none are left out. Counted on the
        (is_entity, status, created_at, instance_id) index, without reading the rows unless q filters by name."""
        where, args = self._where(q)
        rows = self._db.execute(f"SELECT status, COUNT(*) FROM instances WHERE {' AND '.join(where)} "
                                "GROUP BY status", args)
        return {RuntimeStatus(status): count for status, count in rows}

    def _page(self, sql: str, args: list[Any], top: int | None,
              whole: bool = False) -> tuple[list[tuple[Any, ...]], tuple[Any, ...] | None]:
        """One page of rows (`top`, default 100) and its last row when more follow (None at the end); with whole,
        the page and the first row of the next, to merge with other pages."""
        rows = self._db.execute(f"{sql} LIMIT ?", (*args, _limit(top) + 1)).fetchall()
        return (rows, None) if whole else _cut(rows, top)

    @staticmethod
    def _where(q: Query, with_statuses: bool = True) -> tuple[list[str], list[Any]]:
        # a literal, not a parameter: the planner then reads each order from its index (entities: both kinds)
        where, args = ["is_entity IN (0, 1)" if q.entities else "is_entity=0"], []
        _time_range(where, args, "created_at", q.created_from, q.created_to)
        if q.statuses and with_statuses:
            where.append(f"status IN ({','.join('?' * len(q.statuses))})")
            args += [s.value for s in q.statuses]
        if q.prefix:
            where.append("substr(instance_id, 1, ?) = ?")
            args += [len(q.prefix), q.prefix]
        if q.name:
            where.append("instr(lower(name), ?) > 0")
            args.append(q.name.lower())
        return where, args

    def pending_work(self) -> tuple[list[ActivityWork], list[tuple[str, float]]]:
        """After a restart: every scheduled activity, and (instance id, earliest visible_at) of every inbox."""
        acts = [ActivityWork(*r) for r in self._db.execute(
            "SELECT id, instance_id, execution_id, task_id, name, input FROM activities ORDER BY id")]
        return acts, self.due_inboxes()

    def next_visible(self, after: float) -> float | None:
        """The earliest time after `after` at which a message becomes visible; None when none waits."""
        return self._db.execute("SELECT MIN(visible_at) FROM messages WHERE visible_at > ?", (after,)).fetchone()[0]

    def due_inboxes(self) -> list[tuple[str, float]]:
        """Instances with messages and the earliest time one becomes visible (a safety scan for timers)."""
        return list(self._db.execute("SELECT instance_id, MIN(visible_at) FROM messages GROUP BY instance_id"))

    # -- writing ----------------------------------------------------------------------------
    def _insert_messages(self, db: sqlite3.Connection, messages: list[OutgoingMessage]) -> list[Message]:
        out = []
        for m in messages:
            if m.event.get("EventType") in _STEERING:
                self._steered_ids(db).add(m.instance_id)
            event = dict(m.event)
            execution_id = event.pop("ExecutionId", None)
            cur = db.execute("INSERT INTO messages (instance_id, execution_id, event, visible_at) VALUES (?,?,?,?)",
                             (m.instance_id, execution_id, _dumps(event), m.visible_at))
            out.append(Message(cur.lastrowid, m.instance_id, event, m.visible_at))
        return out

    def _reset_instance(self, db: sqlite3.Connection, instance_id: str) -> None:
        self._histories.forget(instance_id)
        db.execute("DELETE FROM history WHERE instance_id=?", (instance_id,))
        db.execute("DELETE FROM messages WHERE instance_id=?", (instance_id,))
        db.execute("DELETE FROM activities WHERE instance_id=?", (instance_id,))

    def _create(self, db: sqlite3.Connection, new: NewInstance, now: float, version: str = "") -> Message:
        row = db.execute("SELECT status FROM instances WHERE instance_id=?", (new.instance_id,)).fetchone()
        if row and RuntimeStatus(row[0]) not in TERMINAL_STATUSES:
            raise Conflict(f"An Orchestration instance with the status {row[0]} already exists.")
        if row:  # a finished instance is replaced: what it left goes
            self._reset_instance(db, new.instance_id)
        else:  # a new id has no history or work, but may have messages sent to it before it existed
            db.execute("DELETE FROM messages WHERE instance_id=?", (new.instance_id,))
        db.execute("INSERT OR REPLACE INTO instances (instance_id, name, version, execution_id, status, input, "
                   "output, custom_status, created_at, updated_at, parent_instance_id, is_entity, next_seq) "
                   "VALUES (?,?,?,?,?,?,NULL,NULL,?,?,?,0,0)",
                   (new.instance_id, new.name, version, new.execution_id, RuntimeStatus.Pending.value, new.input,
                    now, now, new.parent_instance_id))
        started = dict(new.started, ExecutionId=new.execution_id)
        return self._insert_messages(db, [OutgoingMessage(new.instance_id, started)])[0]

    def create_instance(self, new: NewInstance, now: float, version: str = "") -> Message:
        """Create (or replace a finished) instance, Pending, with its ExecutionStarted in the inbox.
        Raises Conflict when an instance with that id is not finished; nothing changes then."""
        with self.tx() as db:
            return self._create(db, new, now, version)

    def add_message(self, message: OutgoingMessage, status: RuntimeStatus | None = None,
                    now: float = 0.0) -> Message:
        """Put one event into an inbox (raise event, terminate, suspend, resume, signal), and set the
        instance's status with it when one is given."""
        with self.tx() as db:
            if status is not None:
                db.execute("UPDATE instances SET status=?, updated_at=? WHERE instance_id=?",
                           (status.value, now, message.instance_id))
            return self._insert_messages(db, [message])[0]

    def commit_episode(self, instance: Instance, outcome: EpisodeOutcome,
                       now: float) -> tuple[list[ActivityWork], list[Message]]:
        """One episode's outcome, atomically. A suspend or resume that arrived while the episode ran (still in the
        inbox) keeps the status it set. A sub-orchestration whose id is taken raises Conflict and nothing is
        written: the engine refuses those before. Returns the activities and messages it wrote, to hand on."""
        iid = instance.instance_id
        history = outcome.history
        sent: list[Message] = []
        texts = [_dumps(dict(e, IsPlayed=True)) for e in history]
        with self.tx() as db:
            seq = db.execute("SELECT next_seq FROM instances WHERE instance_id=?", (iid,)).fetchone()[0]
            db.executemany("INSERT INTO history (instance_id, seq, event) VALUES (?,?,?)",
                           [(iid, seq + i, text) for i, text in enumerate(texts)])
            if outcome.consumed:
                db.executemany("DELETE FROM messages WHERE id=?", [(m,) for m in outcome.consumed])
            if outcome.finished_work:
                db.executemany("DELETE FROM activities WHERE id=?", [(w,) for w in outcome.finished_work])
            status = outcome.status
            if status in (RuntimeStatus.Running, RuntimeStatus.Suspended):
                status = self._pending_suspension(db, iid) or status
            # The status as the episode began is the file's (only suspend and resume change it meanwhile, and they
            # wait in the inbox): left alone when unchanged, its index entry is not rewritten (one page fewer).
            changes: list[tuple[str, Any]] = [("status", status.value)] if status != instance.status else []
            changes += [("output", outcome.output), ("updated_at", now), ("next_seq", seq + len(history))]
            if outcome.set_custom_status:
                changes.append(("custom_status", outcome.custom_status))
            db.execute(f"UPDATE instances SET {', '.join(f'{column}=?' for column, _ in changes)} WHERE instance_id=?",
                       (*(value for _, value in changes), iid))
            works = self._schedule(db, instance, outcome.activities)
            for new in outcome.new_instances:
                sent.append(self._create(db, new, now))
            sent += self._insert_messages(db, outcome.messages)
            nxt = outcome.continue_as_new
            if nxt is not None:
                db.execute("DELETE FROM history WHERE instance_id=?", (iid,))
                db.execute("UPDATE instances SET execution_id=?, input=?, output=NULL, next_seq=0, "
                           "status=? WHERE instance_id=?", (nxt.execution_id, nxt.input,
                                                            RuntimeStatus.ContinuedAsNew.value, iid))
                sent += self._insert_messages(db, [OutgoingMessage(iid, dict(nxt.started,
                                                                            ExecutionId=nxt.execution_id))])
        if outcome.continue_as_new is None:  # the events as the file will read them
            self._histories.extend(iid, seq, json.loads(f"[{','.join(texts)}]"), texts)  # one decode for all
        else:
            self._histories.forget(iid)
        return works, sent

    @staticmethod
    def _schedule(db: sqlite3.Connection, instance: Instance,
                  activities: list[ScheduledActivity]) -> list[ActivityWork]:
        works = []
        for a in activities:
            cur = db.execute("INSERT INTO activities (instance_id, execution_id, task_id, name, input) "
                             "VALUES (?,?,?,?,?)", (instance.instance_id, instance.execution_id, a.task_id, a.name,
                                                    a.input))
            works.append(ActivityWork(cur.lastrowid, instance.instance_id, instance.execution_id, a.task_id, a.name,
                                      a.input))
        return works

    def statuses(self, instance_ids: list[str]) -> dict[str, RuntimeStatus]:
        """The runtime status of those of the instances that exist."""
        out = {}
        for iid in instance_ids:
            row = self._db.execute("SELECT status FROM instances WHERE instance_id=?", (iid,)).fetchone()
            if row is not None:
                out[iid] = RuntimeStatus(row[0])
        return out

    def _steered_ids(self, db: sqlite3.Connection) -> set[str]:
        if self._steered is None:
            rows = db.execute("SELECT DISTINCT instance_id FROM messages WHERE event LIKE ? OR event LIKE ?",
                              _STEERING_PATTERNS)
            self._steered = {r[0] for r in rows}
        return self._steered

    def _pending_suspension(self, db: sqlite3.Connection, instance_id: str) -> RuntimeStatus | None:
        """The status the latest unconsumed ExecutionSuspended/ExecutionResumed in the inbox stands for."""
        steered = self._steered_ids(db)
        if instance_id not in steered:
            return None
        row = db.execute("SELECT event FROM messages WHERE instance_id=? AND (event LIKE ? OR event LIKE ?) "
                         "ORDER BY id DESC LIMIT 1", (instance_id, *_STEERING_PATTERNS)).fetchone()
        if row is None:
            steered.discard(instance_id)  # every rollback forgets the whole set (_steered = None)
            return None
        suspended = json.loads(row[0])["EventType"] == EventType.ExecutionSuspended
        return RuntimeStatus.Suspended if suspended else RuntimeStatus.Running

    def complete_activity(self, work: ActivityWork, event: dict[str, Any]) -> Message | None:
        """Record an activity's TaskCompleted/TaskFailed in its orchestrator's inbox and drop the work item,
        atomically. Returns None (and writes nothing) when the work item is already gone."""
        with self.tx() as db:
            if db.execute("DELETE FROM activities WHERE id=?", (work.id,)).rowcount == 0:
                return None
            return self._insert_messages(db, [OutgoingMessage(work.instance_id, dict(
                event, ExecutionId=work.execution_id))])[0]

    def purge(self, instance_ids: list[str]) -> int:
        """Delete instances with their history, inbox and work; returns how many instances were deleted. The pages
        they held go back to the disk once committed (incremental auto-vacuum, then a WAL checkpoint)."""
        with self.tx() as db:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS purging (instance_id TEXT PRIMARY KEY)")
            db.execute("DELETE FROM purging")
            db.executemany("INSERT OR IGNORE INTO purging VALUES (?)", [(iid,) for iid in instance_ids])
            for table in ("history", "messages", "activities"):
                db.execute(f"DELETE FROM {table} WHERE instance_id IN (SELECT instance_id FROM purging)")
            deleted = db.execute("DELETE FROM instances WHERE instance_id IN (SELECT instance_id FROM purging)"
                                 ).rowcount
            db.execute("DELETE FROM purging")
        for iid in instance_ids:
            self._histories.forget(iid)
        if deleted:
            self.on_commit(self._give_space_back)
        return deleted

    def _give_space_back(self) -> None:
        """Free pages back to the file system, outside a transaction. When more than half of the file is free, one
        VACUUM (its cost follows what is left, built in a temporary file, not in memory); it also turns
        incremental auto-vacuum on for a store made without it. Otherwise incremental auto-vacuum (executescript
        steps the pragma to its end, where execute would free one page)."""
        db = self._db
        with contextlib.suppress(sqlite3.Error):
            if 2 * db.execute("PRAGMA freelist_count").fetchone()[0] > db.execute("PRAGMA page_count").fetchone()[0]:
                db.executescript("PRAGMA auto_vacuum=INCREMENTAL; PRAGMA temp_store=FILE; VACUUM; "
                                 "PRAGMA temp_store=MEMORY;")
            elif db.execute("PRAGMA auto_vacuum").fetchone()[0]:
                db.executescript("PRAGMA incremental_vacuum;")
        self._checkpoint()

    def _checkpoint(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.file.wrote()

    def matching_ids(self, q: Query) -> list[str]:
        where, args = self._where(q)
        return [r[0] for r in self._db.execute(f"SELECT instance_id FROM instances WHERE {' AND '.join(where)}",
                                               args)]

    def rewind(self, instance: Instance, history: list[dict[str, Any]], activities: list[ScheduledActivity],
               messages: list[OutgoingMessage], now: float) -> tuple[list[ActivityWork], list[Message]]:
        """Replace a failed execution's history, set it Running and re-schedule its failed work, atomically."""
        iid = instance.instance_id
        self._histories.forget(iid)
        with self.tx() as db:
            db.execute("DELETE FROM history WHERE instance_id=?", (iid,))
            db.executemany("INSERT INTO history (instance_id, seq, event) VALUES (?,?,?)",
                           [(iid, i, _dumps(e)) for i, e in enumerate(history)])
            db.execute("UPDATE instances SET status=?, output=NULL, updated_at=?, next_seq=? WHERE instance_id=?",
                       (RuntimeStatus.Running.value, now, len(history), iid))
            works = self._schedule(db, instance, activities)
            sent = self._insert_messages(db, messages)
        return works, sent

    # -- entities ---------------------------------------------------------------------------
    def load_entity(self, entity_id: str) -> tuple[bool, str | None]:
        """(exists, state JSON text) of an entity; (False, None) when it has no state."""
        row = self._db.execute("SELECT output FROM instances WHERE instance_id=? AND is_entity=1",
                               (entity_id,)).fetchone()
        return (row is not None and row[0] is not None), (row[0] if row else None)

    def query_entities(self, q: EntityQuery) -> tuple[list[Instance], str | None]:
        """Entities that have state (state in `output`, last operation time in `updated_at`), by id, one page; and
        the next page's token (None at the end). BadRequest for a token this store did not make."""
        where, args = ["is_entity=1", "output IS NOT NULL"], []
        if q.name:
            where.append("substr(instance_id, 1, ?) = ?")
            prefix = f"@{q.name.lower()}@"
            args += [len(prefix), prefix]
        _time_range(where, args, "updated_at", q.last_operation_from, q.last_operation_to)
        if q.continuation:
            (after,) = _position(q.continuation, str)
            where.append("instance_id > ?")
            args.append(after)
        rows, last = self._page(f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE {' AND '.join(where)} "
                                "ORDER BY instance_id", args, q.top)
        token = None if last is None else _token([last[0]])
        return [_instance(r) for r in rows], token

    def commit_entity(self, entity_id: str, name: str, exists: bool, state: str | None, consumed: list[int],
                      messages: list[OutgoingMessage], now: float) -> list[Message]:
        """An entity batch's outcome, atomically: new state, requests consumed, responses and signals sent."""
        with self.tx() as db:
            db.execute("INSERT INTO instances (instance_id, name, execution_id, status, output, created_at, "
                       "updated_at, is_entity) VALUES (?,?,'',?,?,?,?,1) ON CONFLICT(instance_id) DO UPDATE SET "
                       "output=excluded.output, updated_at=excluded.updated_at",
                       (entity_id, name, RuntimeStatus.Running.value, state if exists else None, now, now))
            if consumed:
                db.executemany("DELETE FROM messages WHERE id=?", [(m,) for m in consumed])
            return self._insert_messages(db, messages)

    def get_setting(self, key: str) -> str | None:
        """A host setting kept with the data (e.g. the time-travel clock offset); None when unset."""
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (f"setting:{key}",)).fetchone()
        return row[0] if row else None

    def put_setting(self, key: str, value: str) -> None:
        with self.tx() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (f"setting:{key}", value))

    def drop_messages(self, ids: list[int], finished_work: list[int] | None = None) -> None:
        """Delete inbox messages nobody will consume, and the work items of activity results that were never
        written to the inbox (see EpisodeOutcome.finished_work)."""
        if ids or finished_work:
            with self.tx() as db:
                db.executemany("DELETE FROM messages WHERE id=?", [(m,) for m in ids])
                db.executemany("DELETE FROM activities WHERE id=?", [(w,) for w in finished_work or ()])


def read_history(path: str | os.PathLike[str], instance_id: str) -> list[dict[str, Any]]:
    """The raw stored history of an instance (EventIds and all), read from a store another devhost may be using:
    for tests that check what is kept, not what the API shows."""
    db = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT event FROM history WHERE instance_id=? ORDER BY seq", (instance_id,)).fetchall()
    finally:
        db.close()
    return [json.loads(r[0]) for r in rows]


def read_orchestrations(path: str | os.PathLike[str], statuses: frozenset[RuntimeStatus] = frozenset(),
                        instance_id: str | None = None) -> list[tuple[Instance, list[dict[str, Any]]]]:
    """Every orchestration instance of a store file (not entities), oldest first, each with its stored history, as
    one consistent snapshot, read without disturbing a devhost that uses the file: opened read-only, so it neither
    writes, checkpoints nor takes the store's lock. Narrowed to `statuses` (empty: all) and to one `instance_id`.
    StoreError when the file is not a devhost store or cannot be read."""
    resolved = Path(path).resolve()
    try:
        db = sqlite3.connect(f"file:{resolved}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path} as a devhost store: {exc}") from exc
    try:
        if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            raise StoreError(f"{path} is not a devhost store")
        db.execute("BEGIN")  # one read snapshot for the list and every history
        where, args = SqliteStore._where(Query(statuses=statuses))
        if instance_id is not None:
            where.append("instance_id=?")
            args.append(instance_id)
        rows = db.execute(f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE {' AND '.join(where)} "
                          "ORDER BY created_at, instance_id", args).fetchall()
        found = []
        for row in rows:
            texts = db.execute("SELECT event FROM history WHERE instance_id=? ORDER BY seq", (row[0],)).fetchall()
            found.append((_instance(row), [json.loads(t[0]) for t in texts]))
        db.execute("COMMIT")
        return found
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read {path} as a devhost store: {exc}") from exc
    finally:
        db.close()

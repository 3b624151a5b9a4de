"""devhost.runtime.store.sqlite_file: how the SQLite store's file is guarded, on real files: the lock that keeps a
second devhost off it, files devhost did not make refused having only been read (byte for byte unchanged), a file
deleted, replaced or overwritten while devhost runs, whose WAL lies beside it (a backup put in place opens as it
is), and private file modes."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from store_helpers import NOW, new_instance

from devhost.errors import StoreError, StoreUnavailable
from devhost.model import (
    Query,
)
from devhost.runtime.store.sqlite import APPLICATION_ID, SCHEMA_VERSION, SqliteStore

ROOT = Path(__file__).resolve().parents[4]


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
        SqliteStore(tmp_path / "store.sqlite")


def test_the_lock_is_released_on_close(tmp_path):
    SqliteStore(tmp_path / "s.sqlite").close()

    SqliteStore(tmp_path / "s.sqlite").close()


def test_the_store_folder_is_created(tmp_path):
    folder = tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()

    SqliteStore(folder / "store.sqlite").close()

    assert (tmp_path / "a").is_dir() and folder.is_dir()
    assert (folder / "store.sqlite").is_file()
    reopened = SqliteStore(folder / "store.sqlite")  # the file in it is a devhost store, not just a file
    try:
        assert reopened.query(Query()) == ([], None)
    finally:
        reopened.close()


def test_an_empty_file_is_a_fresh_store(tmp_path):
    (tmp_path / "s.sqlite").write_bytes(b"")

    s = SqliteStore(tmp_path / "s.sqlite")
    try:
        assert s.query(Query()) == ([], None)
    finally:
        s.close()


def _files(folder: Path) -> dict[str, bytes]:
    """Every file in a folder with its bytes: what a refused file must leave exactly as it was."""
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir())}


def _foreign_database(path: Path, kind: str) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    if kind == "empty":  # an SQLite database with nothing in it yet
        db.execute("PRAGMA user_version=7")
        db.close()
        return
    if kind == "wal":  # its program still runs (or crashed): its last changes are in its -wal only
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    db.executemany("INSERT INTO customers (name) VALUES (?)", [(f"customer {i}",) for i in range(300)])
    if kind == "wal":
        for name in ("-wal", "-shm"):  # as they are while the program holds the file open
            Path(f"{path}{name}").write_bytes(Path(f"{path}{name}").read_bytes())
        frozen = {name: Path(f"{path}{name}").read_bytes() for name in ("", "-wal", "-shm")}
        db.close()  # would checkpoint and delete the -wal: put back the files as they were before
        for name, content in frozen.items():
            Path(f"{path}{name}").write_bytes(content)
    else:
        db.close()


@pytest.mark.parametrize("kind", ["rollback", "wal", "empty"])
def test_a_foreign_sqlite_database_is_refused_and_left_unchanged(tmp_path, kind):
    path = tmp_path / "app.db"
    _foreign_database(path, kind)
    before = _files(tmp_path)

    with pytest.raises(StoreError, match="devhost did not create"):
        SqliteStore(path)

    assert _files(tmp_path) == before  # same bytes and size, its own -wal kept, nothing made beside it
    with pytest.raises(StoreError, match="devhost did not create"):  # refused again: the lock was released
        SqliteStore(path)
    assert _files(tmp_path) == before


@pytest.mark.parametrize("content", [b"this is not a database, just text " * 200, bytes(range(256)) * 40,
                                     b"SQLite format 3\x00" + bytes(range(256)) * 40])
def test_a_corrupt_file_is_refused_and_left_unchanged(tmp_path, content):
    path = tmp_path / "store.sqlite"
    path.write_bytes(content)

    with pytest.raises(StoreError, match="is not a usable devhost store"):
        SqliteStore(path)

    assert _files(tmp_path) == {"store.sqlite": content}  # no -wal, -shm or .lock beside it


def test_opening_a_ready_store_writes_nothing(tmp_path):
    path = tmp_path / "store.sqlite"
    SqliteStore(path).close()
    before = path.read_bytes()

    SqliteStore(path).close()

    assert path.read_bytes() == before


def test_a_deleted_store_file_is_noticed_and_every_write_refused(tmp_path, caplog):
    path = tmp_path / "store.sqlite"
    store = SqliteStore(path)
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
    store = SqliteStore(path)
    try:
        path.rename(tmp_path / "moved.sqlite")
        path.write_bytes(b"")

        with pytest.raises(StoreUnavailable, match="was replaced by another file"):
            store.create_instance(new_instance("b"), NOW)
    finally:
        store.close()


# -- a WAL that is not the file's, and what devhost makes beside the store --------------------------------------
NEXT_START = """
import json, logging, sqlite3, sys
logging.basicConfig(format="%(message)s")
from devhost.model import Query
from devhost.runtime.store.sqlite import SqliteStore
store = SqliteStore(sys.argv[1])
ids = sorted(i.instance_id for i in store.query(Query(top=1000))[0])
store.close()
db = sqlite3.connect(sys.argv[1])
print(json.dumps([ids, db.execute("PRAGMA integrity_check").fetchone()[0]]))
"""


def _next_start(path: Path) -> tuple[list[str], str]:
    """Open the store in a process of its own, as the next devhost does (the first one may hold on to its old
    connection, see _leave_open): the ids of its instances, and its log; the file is checked whole after."""
    done = subprocess.run([sys.executable, "-c", NEXT_START, str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    ids, integrity = json.loads(done.stdout)
    assert integrity == "ok", done.stderr
    return ids, done.stderr


@pytest.mark.parametrize("swap", ["renamed", "copied"])
def test_a_backup_put_in_place_of_a_running_store_opens_next_time_with_exactly_its_instances(tmp_path, swap):
    path, backup = tmp_path / "store.sqlite", tmp_path / "backup.sqlite"
    store = SqliteStore(path)
    for i in range(48):
        store.create_instance(new_instance(f"i{i:02}", execution_id=f"e{i}"), NOW)
        if i == 22:  # as sqlite3's .backup makes one, while devhost uses the store
            with contextlib.closing(sqlite3.connect(path)) as live, contextlib.closing(sqlite3.connect(backup)) as to:
                live.backup(to)
    assert Path(f"{path}-wal").stat().st_size > 0  # what came after the backup is in the WAL only
    if swap == "renamed":
        os.replace(shutil.copyfile(backup, tmp_path / "restored.sqlite"), path)
    else:
        shutil.copyfile(backup, path)

    assert store.check() is False
    assert ("replaced by another file" if swap == "renamed" else "overwritten by another program") in store.lost
    store.close()
    assert path.read_bytes() == backup.read_bytes()  # nothing of the old store was written into it

    ids, log = _next_start(path)
    assert ids == [f"i{i:02}" for i in range(23)], log
    assert "malformed" not in log and log.count("is not the WAL of the store file there now") == 1, log
    assert Path(f"{path}-wal.stale-1").stat().st_size > 0  # set aside, not deleted


def test_the_wal_of_a_store_deleted_while_running_is_set_aside_at_the_next_start(tmp_path):
    path = tmp_path / "store.sqlite"
    store = SqliteStore(path)
    store.create_instance(new_instance("a"), NOW)
    path.unlink()
    assert store.check() is False
    store.close()
    assert Path(f"{path}-wal").exists()  # SQLite keeps the WAL of a file that is gone

    ids, log = _next_start(path)

    assert ids == [] and "there is no store file it could belong to" in log, log
    assert Path(f"{path}-wal.stale-1").exists()


KILLED_AFTER_COMMITS = """
import sys, time
from devhost.runtime.store.sqlite import SqliteStore
store = SqliteStore(sys.argv[1])
for i in range(40):
    store.put_setting(f"k{i}", str(i))
print("committed", flush=True)
time.sleep(60)
"""


def test_a_killed_hosts_own_wal_is_applied_at_the_next_start(tmp_path, caplog):
    path = tmp_path / "store.sqlite"
    child = subprocess.Popen([sys.executable, "-c", KILLED_AFTER_COMMITS, str(path)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "committed", child.stderr.read()
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()
    assert Path(f"{path}-wal").stat().st_size > 0

    reopened = SqliteStore(path)
    try:
        assert [reopened.get_setting(f"k{i}") for i in range(40)] == [str(i) for i in range(40)]
    finally:
        reopened.close()
    assert not any("is not the WAL" in r.getMessage() for r in caplog.records)
    assert not list(tmp_path.glob("*.stale-*"))


def test_another_programs_reader_closing_leaves_the_running_stores_wal_alone(tmp_path):
    path = tmp_path / "store.sqlite"
    store = SqliteStore(path)
    try:
        store.create_instance(new_instance("a"), NOW)
        wal = Path(f"{path}-wal").stat()
        before = path.stat()
        reader = "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute('SELECT * FROM instances')"
        subprocess.run([sys.executable, "-c", reader + "; db.close()", str(path)], check=True, timeout=60)

        # devhost still holds its locks: the reader was not the last connection, so it made no checkpoint
        assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
        assert Path(f"{path}-wal").stat().st_ino == wal.st_ino
        assert store.check() is True
    finally:
        store.close()


def test_the_store_its_wal_and_its_folder_are_made_private(tmp_path):
    folder = tmp_path / "data"
    umask = os.umask(0o022)
    try:
        store = SqliteStore(folder / "store.sqlite")
        store.create_instance(new_instance(), NOW)
        modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in folder.iterdir()}
        store.close()
    finally:
        os.umask(umask)

    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert modes == {name: 0o600 for name in ("store.sqlite", "store.sqlite-wal", "store.sqlite-shm",
                                              "store.sqlite.lock", "store.sqlite-wal.owner")}



"""The store's disk attacked for real, with devhost in its own process: filled during an activity and freed, full
or read-only at start-up, the store file deleted, replaced or restored from a backup while devhost runs. devhost says
what happened in one clear line, answers 503 instead of accepting work it cannot keep, runs what the store holds once
it can, and never applies the WAL of one file to another."""
from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from devhost.runtime.store.sqlite import SqliteStore
from devhost.testing import poll

ROOT = Path(__file__).resolve().parents[2]
SLOW_APP = ROOT / "tests" / "apps" / "slow_chain"
WEBHOOK = "/runtime/webhooks/durabletask"
pytestmark = pytest.mark.usefixtures("local_only")


def start_webhook(host, body=None):
    """Start a SlowChain through the management API (its 503 body is devhost's own, not the starter's)."""
    return host.http.post(host.url(f"{WEBHOOK}/orchestrators/SlowChain"), json=body or {"steps": 1, "seconds": 0},
                          timeout=30)


def in_log(host, text, timeout=15.0):
    return poll(lambda: text in host.log(), timeout, what=f"{text!r} in the log")


def test_a_disk_filled_during_an_activity_and_freed_loses_nothing(devhost_factory, small_disk, tmp_path):
    host = devhost_factory(SLOW_APP, store=small_disk.folder / "store.sqlite", log_path=tmp_path / "host.log").start()
    instance_id = host.start_instance("SlowChain", {"steps": 4, "seconds": 0.5})
    poll(lambda: "TaskScheduled" in host.event_kinds(instance_id), timeout=10, what="the first activity")

    small_disk.fill()  # while the activity runs: recording its result fails
    in_log(host, "failed: database or disk is full")
    failed = start_webhook(host)
    assert failed.status_code == 503, failed.text
    assert "database or disk is full" in failed.json()["Message"]
    small_disk.free()

    final = host.wait(instance_id, timeout=30)  # no restart
    assert final["runtimeStatus"] == "Completed", final
    assert final["output"] == [0, 1, 2, 3]
    kinds = host.event_kinds(instance_id)
    assert kinds.count("TaskCompleted") == 4 and kinds.count("ExecutionCompleted") == 1, kinds
    log = host.log()
    assert log.count("a commit to the store") == 1, log
    assert "commits again after" in log
    assert "Traceback" not in log
    assert host.wait(host.start_instance("SlowChain", {"steps": 1, "seconds": 0}))["output"] == [0]


def test_a_fresh_store_on_a_full_disk_is_refused_with_one_clear_line(devhost_factory, small_disk, tmp_path):
    small_disk.fill()
    host = devhost_factory(SLOW_APP, store=small_disk.folder / "store.sqlite", log_path=tmp_path / "host.log")

    with pytest.raises(RuntimeError, match="exited with 2"):
        host.start(timeout=15)

    log = host.log()
    assert "devhost: cannot create the store" in log and "full" in log, log
    assert "Traceback" not in log


def test_an_existing_store_on_a_full_disk_is_refused_with_one_clear_line_and_kept(devhost_factory, small_disk,
                                                                                   tmp_path):
    store = small_disk.folder / "store.sqlite"
    SqliteStore(store).close()
    before = store.read_bytes()
    host = devhost_factory(SLOW_APP, store=store, log_path=tmp_path / "host.log")
    small_disk.fill()  # SQLite cannot even map its shared-memory index now

    with pytest.raises(RuntimeError, match="exited with 2"):
        host.start(timeout=15)

    log = host.log()
    assert "devhost: cannot open the store" in log and "(its disk is full)" in log, log
    assert "Traceback" not in log and "not a usable devhost store" not in log
    small_disk.free()
    assert store.read_bytes() == before
    assert host.start().wait(host.start_instance("SlowChain", {"steps": 1, "seconds": 0}))["output"] == [0]


def test_a_read_only_store_is_refused_with_one_clear_line_and_left_unchanged(devhost_factory, small_disk, tmp_path):
    store = small_disk.folder / "store.sqlite"
    SqliteStore(store).close()
    before = store.read_bytes()
    host = devhost_factory(SLOW_APP, store=store, log_path=tmp_path / "host.log")
    small_disk.remount(read_only=True)

    with pytest.raises(RuntimeError, match="exited with 2"):
        host.start(timeout=15)

    log = host.log()
    assert "is read-only" in log and "Traceback" not in log, log
    small_disk.remount(read_only=False)
    assert store.read_bytes() == before
    assert host.start().wait(host.start_instance("SlowChain", {"steps": 1, "seconds": 0}))["output"] == [0]


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_store_deleted_or_replaced_while_running_stops_taking_work(devhost_factory, tmp_path, how):
    store = tmp_path / "data" / "store.sqlite"
    host = devhost_factory(SLOW_APP, store=store, log_path=tmp_path / "host.log").start()
    host.wait(host.start_instance("SlowChain", {"steps": 1, "seconds": 0}))

    store.unlink()
    if how == "replaced":
        store.write_bytes(b"")

    in_log(host, f"was {'deleted' if how == 'deleted' else 'replaced by another file'} while devhost was running")
    refused = start_webhook(host)
    assert refused.status_code == 503, refused.text
    assert "while devhost was running" in refused.json()["Message"]
    assert host.log().count("while devhost was running") == 1
    assert host.process.poll() is None  # still answering, with a clear error


def instance_ids(host) -> set[str]:
    answer = host.http.get(host.url(f"{WEBHOOK}/instances"), params={"top": 1000}, timeout=10)
    assert answer.status_code == 200, answer.text
    return {i["instanceId"] for i in answer.json()}


@pytest.mark.parametrize("swap, end", [("renamed", "killed"), ("renamed", "stopped"), ("copied", "stopped")])
def test_a_store_swapped_for_a_backup_while_running_serves_exactly_the_backup_after_a_restart(devhost_factory,
                                                                                              tmp_path, swap, end):
    store, backup = tmp_path / "data" / "store.sqlite", tmp_path / "backup.sqlite"
    host = devhost_factory(SLOW_APP, store=store, log_path=tmp_path / "host.log").start()
    kept = {host.start_instance("SlowChain", {"steps": 1, "seconds": 0}) for _ in range(6)}
    for instance_id in kept:
        host.wait(instance_id)
    with contextlib.closing(sqlite3.connect(store)) as live, contextlib.closing(sqlite3.connect(backup)) as to:
        live.backup(to)  # what `sqlite3 store.sqlite ".backup backup.sqlite"` does, devhost running
    for instance_id in [host.start_instance("SlowChain", {"steps": 2, "seconds": 0}) for _ in range(6)]:
        host.wait(instance_id)
    assert instance_ids(host) > kept

    if swap == "renamed":  # mv backup store.sqlite
        os.replace(shutil.copyfile(backup, tmp_path / "data" / "restored.sqlite"), store)
    else:  # cp backup store.sqlite: the same file, other bytes
        shutil.copyfile(backup, store)
    if end == "killed":  # at once, before devhost may have noticed
        host.kill()
    else:
        in_log(host, "replaced by another file" if swap == "renamed" else "overwritten by another program")
        assert host.stop() == 0
    host.start()

    assert instance_ids(host) == kept
    log = host.log()
    assert log.count("is not the WAL of the store file there now") == 1, log
    assert "malformed" not in log and "Traceback" not in log, log
    assert Path(f"{store}-wal.stale-1").exists()
    assert host.wait(host.start_instance("SlowChain", {"steps": 1, "seconds": 0}))["output"] == [0]
    host.stop()
    with contextlib.closing(sqlite3.connect(store)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

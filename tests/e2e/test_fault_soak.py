"""Fault soak: faults of the store's file repeated while work is in flight, each case a self-contained test function
(bounded: well under a minute each)."""
from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from devhost.testing import poll

SLOW_APP = Path(__file__).resolve().parents[1] / "apps" / "slow_chain"
WEBHOOK = "/runtime/webhooks/durabletask"
OVERWRITE_NOTICED = "overwritten by another program while devhost was running; devhost stopped"


@pytest.mark.usefixtures("local_only")
def test_fault_soak_store_swapped_for_a_backup_while_running(devhost_factory, tmp_path):
    """Cycle after cycle: back the store up while chains run, start more, put the backup in place of the store
    (renamed over it, or copied into it), stop or kill devhost, start it again. Each time it serves exactly the
    backup's instances, never "malformed", and the chains that were running in the backup finish with all steps."""
    store = tmp_path / "data" / "store.sqlite"
    host = devhost_factory(SLOW_APP, store=store, log_path=tmp_path / "host.log").start()
    steps: dict[str, int] = {}  # every instance started, with its number of steps

    def start(n: int, k: int) -> None:
        for _ in range(n):
            steps[host.start_instance("SlowChain", {"steps": k, "seconds": 0.05})] = k

    def ids() -> set[str]:
        answer = host.http.get(host.url(f"{WEBHOOK}/instances"), params={"top": 1000}, timeout=10)
        assert answer.status_code == 200, answer.text
        return {i["instanceId"] for i in answer.json()}

    overwrites = 0
    cases = [("renamed", "killed"), ("copied", "stopped"), ("renamed", "stopped"), ("copied", "killed")]
    for cycle, (swap, end) in enumerate(cases, start=1):
        start(4, 6)  # about 0.3 s each: some are still running when the backup is made
        poll(lambda: any("TaskCompleted" in host.event_kinds(i) for i in steps), timeout=15, what="a step done")
        backup = tmp_path / f"backup{cycle}.sqlite"
        with contextlib.closing(sqlite3.connect(store)) as live, contextlib.closing(sqlite3.connect(backup)) as to:
            live.backup(to)
        with contextlib.closing(sqlite3.connect(backup)) as copy:
            kept = {r[0] for r in copy.execute("SELECT instance_id FROM instances")}
        start(4, 2)
        poll(lambda kept=kept: ids() > kept, timeout=15, what="instances beyond the backup")

        if swap == "renamed":
            os.replace(shutil.copyfile(backup, store.with_name("restored.sqlite")), store)
        else:
            shutil.copyfile(backup, store)
        if swap == "copied":  # an overwrite is seen by devhost's scan (each second): let it see it before the end
            overwrites += 1
            poll(lambda n=overwrites: host.log().count(OVERWRITE_NOTICED) == n, timeout=15,
                 what="the overwrite noticed")
        if end == "killed":
            host.kill()
        else:
            host.stop()
        host.start()

        assert ids() == kept, f"cycle {cycle} ({swap}, {end})"
        for instance_id in kept:
            final = host.wait(instance_id, timeout=30)
            assert final["runtimeStatus"] == "Completed", (cycle, final)
            assert final["output"] == list(range(steps[instance_id])), (cycle, final)
        for instance_id in set(steps) - kept:
            del steps[instance_id]
        log = host.log()
        assert log.count("is not the WAL of the store file there now") == cycle, log
        assert "malformed" not in log and "Traceback" not in log, log

    host.stop()
    with contextlib.closing(sqlite3.connect(store)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

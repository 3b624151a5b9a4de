"""The host supervises its worker processes for as long as it runs: a worker killed again and again while it starts
is replaced (with backoff), a worker that cannot start at all leaves HTTP functions answering 500 with a reason
instead of hanging, and the work in the store runs once a worker is back."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from devhost.testing import poll

ROOT = Path(__file__).resolve().parents[2]
CRASH_APP = ROOT / "tests" / "apps" / "worker_crash"


@pytest.mark.usefixtures("local_only")
def test_a_worker_killed_again_and_again_while_starting_is_still_replaced(devhost_factory, tmp_path):
    host = devhost_factory(CRASH_APP).start()
    seen = set(poll(lambda: host.worker_pids(), timeout=10, what="the worker process"))
    for pid in seen:
        os.kill(pid, signal.SIGKILL)
    for _ in range(5):  # each replacement is killed the moment it appears, long before it has imported the app
        new = poll(lambda: host.worker_pids() - seen, timeout=20, interval=0.001, what="a replacement worker")
        for pid in new:
            os.kill(pid, signal.SIGKILL)
        seen |= new

    marker = tmp_path / "ran-once"
    marker.touch()  # Survive's activity answers at once

    def start_through_http():  # 500 while the pool backs off; 202 once a worker is up again
        response = host.http_start("Survive", {"marker": str(marker)})
        assert response.status_code in (202, 500), response.text
        return response.status_code == 202 and response.json()["id"]

    final = host.wait(poll(start_through_http, timeout=30, interval=0.1, what="a worker to be back"), timeout=30)
    assert final["runtimeStatus"] == "Completed" and final["output"] == "survived", final
    assert "while starting" in host.log() and "starts in a row failed" in host.log()
    assert host.process.poll() is None


@pytest.mark.usefixtures("local_only")
def test_a_worker_that_cannot_start_leaves_http_functions_answering_500_until_one_does(devhost_factory, tmp_path):
    die = tmp_path / "die"
    die.touch()  # while it exists, every start dies while importing the app, the very first one included
    host = devhost_factory(CRASH_APP, env={"DEVHOST_TEST_DIE_AT_IMPORT": str(die)}).start(timeout=30)
    marker = tmp_path / "ran-once"
    marker.touch()

    response = host.http_start("Survive", {"marker": str(marker)})
    assert response.status_code == 500
    assert "No worker process is running" in response.text
    started = host.http.post(host.url("/runtime/webhooks/durabletask/orchestrators/Survive"),
                             json={"marker": str(marker)}, timeout=10)
    assert started.status_code == 202  # the management API keeps working; the work waits in the store
    assert "exited with code 3 while starting" in host.log()

    die.unlink()  # the next start lives
    final = host.wait(started.json()["id"], timeout=30)
    assert final["runtimeStatus"] == "Completed" and final["output"] == "survived", final
    assert poll(lambda: host.http_start("Survive", {"marker": str(marker)}).status_code == 202, timeout=10,
                what="the HTTP starter to answer again")
    assert "started (pid" in host.log() and "failed starts" in host.log()



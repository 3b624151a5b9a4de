"""A worker's start-up has a deadline: an app whose import hangs stops devhost with one line naming the file, Ctrl-C
and SIGTERM stop devhost while the first worker is still importing, and a replacement worker that hangs while starting
(stopped with SIGSTOP) is killed and replaced while HTTP functions answer 500 and the work in the store waits for it.
The app (tests/apps/worker_startup) holds every start-up at import until a file the test controls exists."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from devhost.testing import poll

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "tests" / "apps" / "worker_startup"
GATE = "DEVHOST_TEST_IMPORT_GATE"  # while the file it names is missing, a worker's import of WaitsAtImport waits
DEADLINE = "DEVHOST_WORKER_START_TIMEOUT"

pytestmark = pytest.mark.usefixtures("local_only")


def importing_pids(gate: Path) -> list[int]:
    """The worker processes that reached the import that waits for `gate`, in order."""
    pids = gate.with_name(gate.name + ".pids")
    return [int(line) for line in pids.read_text().split()] if pids.exists() else []


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (Linux /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_an_import_that_hangs_stops_devhost_within_the_deadline_with_one_line_naming_the_file(devhost_factory,
                                                                                              tmp_path):
    gate = tmp_path / "gate"  # never made: the import waits for ever
    host = devhost_factory(APP, env={GATE: str(gate), DEADLINE: "3"})

    began = time.monotonic()
    with pytest.raises(RuntimeError, match="devhost exited with 2"):
        host.start(timeout=20)
    took = time.monotonic() - began

    script = APP / "WaitsAtImport" / "__init__.py"
    lines = [line for line in host.log().splitlines() if "did not finish starting" in line]
    assert lines == [f"devhost: the worker process did not finish starting within 3 s: it was still importing "
                     f"function 'WaitsAtImport' from {script}. Does that module wait for something at import (a "
                     f"network call, a lock, input)? --worker-start-timeout SECONDS (or {DEADLINE}) sets this "
                     f"deadline."], host.log()
    assert "Traceback" not in host.log()
    assert took < 3 + 8, took  # the deadline, plus Python's start
    [worker] = importing_pids(gate)
    assert poll(lambda: not alive(worker), timeout=5, what=f"the hung worker {worker} to be gone")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_devhost_while_the_first_worker_hangs_at_import(devhost_factory, tmp_path, sig):
    gate = tmp_path / "gate"
    host = devhost_factory(APP, env={GATE: str(gate), DEADLINE: "60"}).launch()
    [worker] = poll(lambda: importing_pids(gate), timeout=20, what="the worker to reach the import that waits")

    host.process.send_signal(sig)
    began = time.monotonic()
    code = host.process.wait(timeout=10)

    assert time.monotonic() - began < 5
    assert code == 0, host.log()
    assert "devhost: stopped while starting" in host.log() and "Traceback" not in host.log()
    assert poll(lambda: not alive(worker), timeout=5, what=f"the hung worker {worker} to be gone")


def test_a_replacement_stopped_while_starting_is_replaced_and_http_answers_500_meanwhile(devhost_factory, tmp_path):
    gate = tmp_path / "gate"
    gate.touch()
    host = devhost_factory(APP, env={GATE: str(gate), DEADLINE: "3"}).start(timeout=30)
    release = tmp_path / "release"
    held = host.start_instance("Held", {"release": str(release)})
    poll(lambda: release.with_name("release.holding").exists(), timeout=15, what="the Hold activity to run")

    gate.unlink()  # from here on a worker's start waits at import...
    killed = poll(host.kill_workers, timeout=10, what="the worker to kill")  # ...and Hold's worker dies under it
    stopped = poll(lambda: host.worker_pids() - killed, timeout=15, interval=0.001, what="a replacement worker")
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)  # stopped during its start-up: it can never say hello

    began = time.monotonic()
    response = host.http.post(host.url("/api/orchestrators/Held"), json={"release": str(release)}, timeout=15)
    assert response.status_code == 500 and "No worker process is running" in response.text, response.text
    assert time.monotonic() - began < 3 + 2  # within the start deadline (the stopped start began before)

    gate.touch()  # the next start passes; the stopped one never would: only replacing it gets a worker up
    release.touch()
    final = host.wait(held, timeout=30)
    assert final["runtimeStatus"] == "Completed" and final["output"] == "released", final
    assert all(not alive(pid) for pid in stopped)
    assert "the worker process did not finish starting within 3 s" in host.log()
    assert "hung while starting" in response.text
    assert poll(lambda: host.http_start("Held", {"release": str(release)}).status_code == 202, timeout=15,
                what="the HTTP starter to answer again")
    assert host.process.poll() is None

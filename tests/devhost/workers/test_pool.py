"""devhost.workers.pool, start-up: a worker process gets a deadline to import the app and say hello. The first start
past it fails the pool's start with the file being imported; a replacement past it is killed and replaced (with
backoff) while calls that cannot wait fail as WorkerUnavailable; stopping the pool kills a worker still starting. The
fixture app holds every start at import until a file the test controls exists (WaitsAtImport)."""
from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
from azure.functions import meta

from devhost.errors import WorkerStartTimeout, WorkerUnavailable
from devhost.workers.pool import WorkerPool
from devhost.workers.process import WorkerProcess, WorkerStartHung

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
GATE = "DEVHOST_TEST_IMPORT_GATE"


@pytest.fixture
def app(fixture_apps) -> Path:
    return fixture_apps / "startup_app"


@pytest.fixture
def gate(tmp_path, monkeypatch) -> Path:
    """While this file is missing, a worker's import of WaitsAtImport waits (the worker inherits the setting)."""
    path = tmp_path / "gate"
    monkeypatch.setenv(GATE, str(path))
    return path


def at_the_gate(gate: Path) -> list[int]:
    """The worker processes that reached the import that waits for `gate`, in order."""
    pids = gate.with_name(gate.name + ".pids")
    return [int(line) for line in pids.read_text().split()] if pids.exists() else []


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def until(check, timeout: float = 15.0):
    """Await check() becoming truthy, with a deadline."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)
    return result


def echo(text: str) -> dict[str, meta.Datum]:
    return {"value": meta.Datum(type="string", value=text)}


def test_a_worker_past_its_start_deadline_is_killed_and_named_by_the_file_it_was_importing(app, gate):
    async def main():
        worker = WorkerProcess(str(app))
        with pytest.raises(WorkerStartHung) as hung:
            await worker.start(timeout=3)
        return worker, str(hung.value)

    worker, message = asyncio.run(main())

    script = app / "WaitsAtImport" / "__init__.py"
    assert message.startswith(f"the worker process did not finish starting within 3 s: it was still importing "
                              f"function 'WaitsAtImport' from {script}.")
    assert worker.process.returncode == -signal.SIGKILL and not alive(worker.pid)
    assert at_the_gate(gate) == [worker.pid]


def test_a_first_start_past_its_deadline_fails_the_pools_start(app, gate):
    async def main():
        pool = WorkerPool(str(app), start_timeout=3)
        began = time.monotonic()
        try:
            with pytest.raises(WorkerStartTimeout) as hung:
                await pool.start()
            return time.monotonic() - began, str(hung.value)
        finally:
            await pool.stop()

    took, message = asyncio.run(main())

    assert "within 3 s: it was still importing function 'WaitsAtImport'" in message
    assert "--worker-start-timeout" in message and "DEVHOST_WORKER_START_TIMEOUT" in message
    assert took < 3 + 5
    assert not any(alive(pid) for pid in at_the_gate(gate))


def test_a_replacement_stopped_while_starting_is_killed_and_replaced_and_calls_that_cannot_wait_fail(app, gate,
                                                                                                    caplog,
                                                                                                    monkeypatch):
    monkeypatch.setattr("devhost.workers.pool.STARTUP_GRACE", 0.0)  # the worker killed below is no start-up death
    gate.touch()

    async def main():
        pool = WorkerPool(str(app), start_timeout=3)
        await pool.start()
        try:
            gate.unlink()  # from here on a start waits at import
            os.kill(pool.pids[0], signal.SIGKILL)
            stopped = (await until(lambda: at_the_gate(gate)[1:]))[0]  # the replacement, stuck at the gate...
            os.kill(stopped, signal.SIGSTOP)  # ...and stopped there
            waiting = asyncio.ensure_future(pool.call("Echo", echo("resumed")))  # orchestration work: waits
            began = time.monotonic()
            with pytest.raises(WorkerUnavailable) as unavailable:  # an HTTP function's call: fails
                await pool.call("Echo", echo("x"), wait=False)
            failed_after = time.monotonic() - began
            gate.touch()
            outputs = await asyncio.wait_for(waiting, 30)
            return stopped, str(unavailable.value), failed_after, outputs["value"].value, pool.pids, pool.start_failures
        finally:
            await pool.stop()

    stopped, message, failed_after, value, pids, failures = asyncio.run(main())

    assert message == ("No worker process is running: each one died or hung while starting (see the log); devhost "
                       "keeps starting new ones.")
    assert failed_after < 3 + 1
    assert value == '"resumed"' and stopped not in pids and failures == [0]  # JSON, as the converter encodes it
    assert not alive(stopped)
    assert "did not finish starting within 3 s: it was still importing function 'WaitsAtImport'" in caplog.text
    assert "1 start in a row failed" in caplog.text


def test_stopping_the_pool_kills_a_worker_still_starting(app, gate):
    async def main():
        pool = WorkerPool(str(app), start_timeout=60)
        starting = asyncio.ensure_future(pool.start())
        [worker] = await until(lambda: at_the_gate(gate))
        starting.cancel()
        began = time.monotonic()
        await pool.stop()
        return worker, time.monotonic() - began

    worker, took = asyncio.run(main())

    assert took < 2 and not alive(worker)


def test_a_call_that_cannot_wait_fails_at_once_while_the_pool_winds_down(app, gate):
    async def main():
        pool = WorkerPool(str(app), start_timeout=60)
        starting = asyncio.ensure_future(pool.start())
        await until(lambda: at_the_gate(gate))
        call = asyncio.ensure_future(pool.call("Echo", echo("x"), wait=False))
        pool.wind_down()
        try:
            with pytest.raises(WorkerUnavailable, match="devhost is stopping"):
                await asyncio.wait_for(call, 5)
        finally:
            starting.cancel()
            await pool.stop()

    asyncio.run(main())

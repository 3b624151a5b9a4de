"""devhost.runtime.dispatcher: work handed on the moment it is committed, activities run, failures turned into data, timers
made due by moving the clock, and work left in the store by a stopped host picked up by the next one.
The dispatcher runs on a background event loop over a real store; the tests wait with devhost.testing.poll."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import pytest
from loop_thread import LoopThread

from devhost.app.bindings import Invocation
from devhost.app.discovery import load_functions
from devhost.clock import Clock
from devhost.errors import StoreUnavailable, WorkerCrashed
from devhost.model import TERMINAL_STATUSES, ActivityWork, EventType, Instance, RuntimeStatus
from devhost.runtime.dispatcher import Dispatcher
from devhost.runtime.operations import Operations
from devhost.runtime.store.sqlite import SqliteStore
from devhost.testing import poll

pytestmark = [pytest.mark.usefixtures("isolated_imports"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


class Running(LoopThread):
    """A dispatcher and the operations over it, on a loop thread of their own (the store's only user)."""

    def __init__(self, root: Path, store_path: Path, clock: Clock, group_commit: bool = False,
                 wrap: Callable[[dict[str, Any]], dict[str, Any]] = lambda invocations: invocations) -> None:
        report = load_functions(root)
        assert report.skipped == []
        self.executor = ThreadPoolExecutor(4)
        invocations = wrap({name: Invocation(fn, self.executor) for name, fn in report.functions.items()})
        orchestrators = sorted(n for n, f in report.functions.items() if f.spec.kind == "orchestration")
        self.clock = clock
        super().__init__()
        self.store: SqliteStore = self.call(lambda: SqliteStore(store_path))
        if group_commit:  # as the host runs it: one COMMIT per turn of the loop
            self.call(lambda: self.store.enable_group_commit(self.loop))
        self.dispatcher: Dispatcher = self.call(lambda: Dispatcher(self.store, invocations, clock))
        self.ops = Operations(self.store, lambda: orchestrators, clock, self.dispatcher.hand_on)
        self._await(self.dispatcher.start())

    def start(self, name: str, input_text: str | None = None, instance_id: str | None = None) -> str:
        return self.call(lambda: self.ops.start(name, instance_id, input_text))

    def committed(self, read: Callable[[], Any]) -> Any:
        """read() on the loop's thread once no write waits for its commit: what the file holds, never what a
        turn has written and may still roll back."""
        async def run() -> Any:
            while not self.store.idle():
                with contextlib.suppress(StoreUnavailable):
                    await self.store.durable()
            return read()
        return self._await(run())

    def instance(self, instance_id: str) -> Instance | None:
        return self.committed(lambda: self.store.get_instance(instance_id))

    def wait(self, instance_id: str, statuses=TERMINAL_STATUSES, timeout: float = 10.0) -> Instance:
        def reached() -> Instance | None:
            instance = self.instance(instance_id)
            return instance if instance is not None and instance.status in statuses else None
        return poll(reached, timeout, what=f"{instance_id} to reach {sorted(s.value for s in statuses)}")

    def history_kinds(self, instance_id: str) -> list[str]:
        return [EventType(e["EventType"]).name for e in self.committed(lambda: self.store.get_history(instance_id))]

    def close(self) -> None:
        self._await(self.dispatcher.stop())
        self.call(self.store.close)
        self.stop_loop()
        self.executor.shutdown(wait=True)


@pytest.fixture
def app(fixture_apps) -> Path:
    return fixture_apps / "dispatch_app"


@pytest.fixture
def host(app, tmp_path):
    running = Running(app, tmp_path / "store.sqlite", Clock())
    yield running
    running.close()


def test_an_orchestration_runs_to_completion(host):
    instance_id = host.start("Chain", json.dumps("7"))  # as the SDK client's start_new("Chain", None, 7) sends it

    done = host.wait(instance_id)

    assert (done.status, done.output) == (RuntimeStatus.Completed, '[7, "7!"]')
    assert host.history_kinds(instance_id).count("TaskCompleted") == 2
    assert host.call(lambda: host.store.pending_work()) == ([], [])  # nothing left behind


def test_many_instances_run_concurrently(host):
    ids = [host.start("Chain", json.dumps(str(i))) for i in range(20)]

    outputs = [host.wait(i).output for i in ids]

    assert outputs == [f'[{i}, "{i}!"]' for i in range(20)]


def test_an_activity_exception_becomes_task_failed_and_fails_the_orchestration(host):
    instance_id = host.start("Doomed")

    done = host.wait(instance_id)

    assert done.status == RuntimeStatus.Failed
    assert done.output.startswith('"Orchestrator function \'Doomed\' failed: Activity function \'Explode\' failed:  '
                                  'ValueError: cannot handle \'boom\'')
    history = host.call(lambda: host.store.get_history(instance_id))
    (failed,) = [e for e in history if e["EventType"] == EventType.TaskFailed]
    assert "raise ValueError" in json.loads(failed["Details"])["InnerException"]["RemoteStackTrace"]


def test_a_scheduled_activity_the_app_no_longer_has_fails_its_task(host):
    work = ActivityWork(id=1, instance_id="i", execution_id="e", task_id=3, name="Gone", input='"x"')

    event = host._await(host.dispatcher._run_activity(work))

    assert (event["EventType"], event["TaskScheduledId"]) == (EventType.TaskFailed, 3)
    assert event["Reason"] == "Activity function 'Gone' failed: Activity function 'Gone' does not exist."
    assert json.loads(event["Details"])["ClassName"].endswith(".FunctionFailedException")


def test_history_events_carry_only_the_extensions_fields(host):
    """DurableTask.Core's TaskCompletedEvent has no ExecutionId: the execution an activity's result belongs to is
    the work item's, and stays out of the recorded event (the SDK and status answers see the history)."""
    instance_id = host.start("Chain", json.dumps("7"))
    host.wait(instance_id)

    history = host.committed(lambda: host.store.get_history(instance_id))

    assert [e for e in history if "ExecutionId" in e] == []


def test_a_timer_fired_event_is_stamped_when_its_timer_is_created(host):
    """DurableTask.Core makes the TimerFiredEvent with the timer (TaskOrchestrationDispatcher, HistoryEvent's
    Timestamp = DateTime.UtcNow) and delivers it at FireAt: its Timestamp is the TimerCreated's, not FireAt."""
    instance_id = host.start("Nap")
    poll(lambda: "TimerCreated" in host.history_kinds(instance_id), what="the timer to be created")
    host.clock.advance(3600)
    host.call(host.dispatcher.rescan)
    host.wait(instance_id)

    history = host.committed(lambda: host.store.get_history(instance_id))

    (created,) = [e for e in history if e["EventType"] == EventType.TimerCreated]
    (fired,) = [e for e in history if e["EventType"] == EventType.TimerFired]
    assert fired["Timestamp"] == created["Timestamp"] != fired["FireAt"]


def test_a_durable_timer_fires_when_the_clock_is_moved(host):
    instance_id = host.start("Nap")
    host.wait(instance_id, {RuntimeStatus.Running})
    poll(lambda: "TimerCreated" in host.history_kinds(instance_id), what="the timer to be created")

    host.clock.advance(3600)
    host.call(host.dispatcher.rescan)

    done = host.wait(instance_id)
    assert (done.status, done.output) == (RuntimeStatus.Completed, '"rested"')


def test_a_terminated_timer_wait_drops_the_late_timer(host):
    instance_id = host.start("Nap")
    poll(lambda: "TimerCreated" in host.history_kinds(instance_id), what="the timer to be created")

    host.call(lambda: host.ops.terminate(instance_id, "no more naps"))
    assert host.wait(instance_id).status == RuntimeStatus.Terminated
    host.clock.advance(3600)
    host.call(host.dispatcher.rescan)

    poll(lambda: host.call(lambda: host.store.due_inboxes()) == [], what="the late TimerFired to be dropped")
    assert host.instance(instance_id).output == '"no more naps"'


def test_work_left_in_the_store_runs_at_the_next_start(app, tmp_path):
    path = tmp_path / "store.sqlite"
    first = Running(app, path, Clock())
    instance_id = first.start("Nap")
    poll(lambda: "TimerCreated" in first.history_kinds(instance_id), what="the timer to be created")
    first.close()  # the timer is due in an hour: it stays in the store

    clock = Clock()
    clock.advance(3600)
    second = Running(app, path, clock)
    try:
        done = second.wait(instance_id)
        assert (done.status, done.output) == (RuntimeStatus.Completed, '"rested"')
        assert second.history_kinds(instance_id).count("ExecutionCompleted") == 1
    finally:
        second.close()


def test_a_start_committed_but_never_handed_on_runs_after_a_restart(app, tmp_path):
    """A host that died right after committing a start (before any dispatcher saw it)."""
    path = tmp_path / "store.sqlite"
    store = SqliteStore(path)
    instance_id = Operations(store, lambda: ["Chain"], Clock(), lambda works, messages: None).start("Chain", None, json.dumps("1"))
    store.close()

    second = Running(app, path, Clock())
    try:
        assert second.wait(instance_id).output == '[1, "1!"]'
    finally:
        second.close()


# -- failed commits: what the store still holds runs again, without a restart ----------------------------------
class DiskFull:
    """The store's fault hook (SqliteStore.fault, at its commit boundary): fails the next `left` commits as a full disk
    (or a store turned read-only) does. Armed from any thread."""

    def __init__(self, cause: str = "database or disk is full") -> None:
        self.cause = cause
        self.left = 0
        self.failed = 0

    def __call__(self, statement: str) -> None:
        if self.left > 0:
            self.left -= 1
            self.failed += 1
            raise sqlite3.OperationalError(self.cause)


class FillsTheDiskOnce:
    """An activity whose first call fills the disk while it runs: the commits that follow fail."""

    def __init__(self, inner: Invocation, disk: DiskFull, commits: int) -> None:
        self.inner, self.fn, self.disk, self.commits = inner, inner.fn, disk, commits

    async def call(self, inputs: Any) -> Any:
        outputs = await self.inner.call(inputs)
        if self.commits:
            self.disk.left, self.commits = self.commits, 0
        return outputs


def store_log(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "devhost"]


@pytest.mark.parametrize("cause", ["database or disk is full", "attempt to write a readonly database"])
def test_an_activity_result_whose_commit_failed_is_written_again_without_a_restart(app, tmp_path, caplog, cause):
    caplog.set_level(logging.INFO, logger="devhost")
    disk = DiskFull(cause)
    host = Running(app, tmp_path / "store.sqlite", Clock(), group_commit=True,
                   wrap=lambda inv: dict(inv, Echo=FillsTheDiskOnce(inv["Echo"], disk, commits=2)))
    host.call(lambda: setattr(host.store, "fault", disk))
    try:
        instance_id = host.start("Chain", json.dumps("7"))

        done = host.wait(instance_id, timeout=15)

        assert (done.status, done.output) == (RuntimeStatus.Completed, '[7, "7!"]')
        assert disk.failed == 2
        assert host.history_kinds(instance_id).count("TaskCompleted") == 2
        assert host.call(lambda: host.store.pending_work()) == ([], [])
        lines = store_log(caplog)
        assert len([line for line in lines if f"failed: {cause}" in line]) == 1, lines
        assert len([line for line in lines if "commits again after 2 failed commits" in line]) == 1, lines
    finally:
        host.close()


class FailsTheCompletion:
    """Fails, once, the commit that would make the instance Completed (read in the open transaction)."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.instance_id: str | None = None
        self.failed = 0

    def __call__(self, statement: str) -> None:
        instance = self.store.get_instance(self.instance_id) if self.instance_id else None
        if not self.failed and instance is not None and instance.status == RuntimeStatus.Completed:
            self.failed += 1
            raise sqlite3.OperationalError("disk I/O error")


def test_a_completion_whose_commit_failed_runs_again_and_is_logged_once_after_its_commit(app, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="devhost")
    host = Running(app, tmp_path / "store.sqlite", Clock(), group_commit=True)
    fault = FailsTheCompletion(host.store)
    host.call(lambda: setattr(host.store, "fault", fault))
    try:
        fault.instance_id = instance_id = host.start("Chain", json.dumps("7"))

        done = host.wait(instance_id, timeout=15)

        assert (done.status, done.output) == (RuntimeStatus.Completed, '[7, "7!"]')
        assert fault.failed == 1
        assert host.history_kinds(instance_id).count("ExecutionCompleted") == 1
        lines = store_log(caplog)
        completed = [i for i, line in enumerate(lines) if line == f"Orchestration Chain ({instance_id}) Completed."]
        failed = [i for i, line in enumerate(lines) if "failed: disk I/O error" in line]
        assert len(completed) == 1 and len(failed) == 1 and failed[0] < completed[0], lines
    finally:
        host.close()


# -- activity results carried to the episode they wake: recorded in its transaction, one commit not two ----------
class Counted:
    """An invocation that counts its calls; `hold` (an asyncio.Event on the loop), when given, keeps each call
    running until it is set; `crash_on` makes those call numbers die as a worker does under them."""

    def __init__(self, inner: Invocation, hold: Any = None, crash_on: tuple[int, ...] = ()) -> None:
        self.inner, self.fn, self.hold, self.crash_on = inner, inner.fn, hold, crash_on
        self.calls = 0

    async def call(self, inputs: Any) -> Any:
        self.calls += 1
        if self.calls in self.crash_on:
            raise WorkerCrashed("The worker process died (test).")
        if self.hold is not None:
            await self.hold.wait()
        return await self.inner.call(inputs)


class Commits:
    """The store's fault hook, counting COMMITs; fails the first one whose turn records a TaskCompleted of
    `instance_id` when `fail_recording` is set."""

    def __init__(self, store: SqliteStore, fail_recording: bool = False) -> None:
        self.store, self.fail_recording = store, fail_recording
        self.instance_id: str | None = None
        self.count = self.failed = 0

    def __call__(self, statement: str) -> None:
        self.count += 1
        if self.fail_recording and not self.failed and self.instance_id is not None:
            history = self.store.get_history(self.instance_id)  # read in the open transaction
            if any(e["EventType"] == EventType.TaskCompleted for e in history):
                self.failed += 1
                raise sqlite3.OperationalError("disk I/O error")


def counted_chain(app: Path, tmp_path: Path, **echo: Any) -> tuple[Running, dict[str, Counted]]:
    counted: dict[str, Counted] = {}

    def wrap(invocations: dict[str, Any]) -> dict[str, Any]:
        counted["Echo"] = Counted(invocations["Echo"], **echo.get("echo", {}))
        counted["Chain"] = Counted(invocations["Chain"], **echo.get("chain", {}))
        return dict(invocations, **counted)
    return Running(app, tmp_path / "store.sqlite", Clock(), group_commit=True, wrap=wrap), counted


def test_a_result_that_wakes_its_instance_is_recorded_by_the_episode_it_wakes(app, tmp_path):
    host, counted = counted_chain(app, tmp_path)
    commits = Commits(host.store)
    host.call(lambda: setattr(host.store, "fault", commits))
    try:
        instance_id = host.start("Chain", json.dumps("7"))

        done = host.wait(instance_id)

        assert (done.status, done.output) == (RuntimeStatus.Completed, '[7, "7!"]')
        # the start and three episodes; each activity result rides in the episode it wakes (it was 6: one more each)
        assert commits.count == 4
        assert host.history_kinds(instance_id).count("TaskCompleted") == 2
        assert counted["Echo"].calls == 2
        assert host.call(lambda: host.store.pending_work()) == ([], [])
    finally:
        host.close()


def test_a_carried_result_whose_episode_commit_failed_is_written_again_and_its_activity_does_not_rerun(
        app, tmp_path):
    host, counted = counted_chain(app, tmp_path)
    commits = Commits(host.store, fail_recording=True)
    host.call(lambda: setattr(host.store, "fault", commits))
    try:
        commits.instance_id = instance_id = host.start("Chain", json.dumps("7"))

        done = host.wait(instance_id, timeout=15)

        assert (done.status, done.output) == (RuntimeStatus.Completed, '[7, "7!"]')
        assert commits.failed == 1
        assert counted["Echo"].calls == 2  # the rolled-back result was written again, not run again
        assert host.history_kinds(instance_id).count("TaskCompleted") == 2
        assert host.call(lambda: host.store.pending_work()) == ([], [])
    finally:
        host.close()


def test_a_carried_result_survives_a_worker_crash_in_the_episode_that_took_it(app, tmp_path):
    host, counted = counted_chain(app, tmp_path, chain={"crash_on": (2,)})  # the episode the first result wakes
    try:
        instance_id = host.start("Chain", json.dumps("7"))

        done = host.wait(instance_id, timeout=15)

        assert (done.status, done.output) == (RuntimeStatus.Completed, '[7, "7!"]')
        assert counted["Chain"].calls == 4 and counted["Echo"].calls == 2
        assert host.history_kinds(instance_id).count("TaskCompleted") == 2
    finally:
        host.close()


def test_a_result_for_an_instance_suspended_meanwhile_waits_in_the_inbox_until_resume(app, tmp_path):
    hold = asyncio.Event()
    host, counted = counted_chain(app, tmp_path, echo={"hold": hold})
    try:
        instance_id = host.start("Chain", json.dumps("7"))
        poll(lambda: counted["Echo"].calls == 1, what="the first Echo to start")
        host.call(lambda: host.ops.suspend(instance_id, "pause"))
        host.wait(instance_id, {RuntimeStatus.Suspended})
        host.call(hold.set)

        def held() -> bool:  # the result is in the inbox, not in the history, and nothing else runs
            inbox = host.committed(lambda: host.store.inbox(instance_id, None, 1e12)[0])
            return host.call(host.dispatcher.idle) and [e["EventType"] for _, e in inbox] == [EventType.TaskCompleted]
        poll(held, what="the result to wait in the inbox")
        assert host.history_kinds(instance_id).count("TaskCompleted") == 0
        assert host.instance(instance_id).status == RuntimeStatus.Suspended

        host.call(lambda: host.ops.resume(instance_id, "go"))
        done = host.wait(instance_id)

        assert (done.status, done.output) == (RuntimeStatus.Completed, '[7, "7!"]')
        assert counted["Echo"].calls == 2
    finally:
        host.close()

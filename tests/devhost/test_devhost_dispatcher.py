"""devhost.dispatcher: work handed on the moment it is committed, activities run, failures turned into data, timers
made due by moving the clock, and work left in the store by a stopped host picked up by the next one.
The dispatcher runs on a background event loop over a real store; the tests wait with devhost.testing.poll."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from loop_thread import LoopThread

from devhost.bindings import Invocation
from devhost.clock import Clock
from devhost.dispatcher import Dispatcher
from devhost.loader import load_functions
from devhost.model import TERMINAL_STATUSES, EventType, Instance, RuntimeStatus
from devhost.operations import Operations
from devhost.store import Store
from devhost.testing import poll

pytestmark = [pytest.mark.usefixtures("isolated_imports"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


class Running(LoopThread):
    """A dispatcher and the operations over it, on a loop thread of their own (the store's only user)."""

    def __init__(self, root: Path, store_path: Path, clock: Clock) -> None:
        report = load_functions(root)
        assert report.skipped == []
        self.executor = ThreadPoolExecutor(4)
        invocations = {name: Invocation(fn, self.executor) for name, fn in report.functions.items()}
        orchestrators = sorted(n for n, f in report.functions.items() if f.spec.kind == "orchestration")
        self.clock = clock
        super().__init__()
        self.store: Store = self.call(lambda: Store(store_path))
        self.dispatcher: Dispatcher = self.call(lambda: Dispatcher(self.store, invocations, clock))
        self.ops = Operations(self.store, lambda: orchestrators, clock, self.dispatcher.hand_on)
        self._await(self.dispatcher.start())

    def start(self, name: str, input_text: str | None = None, instance_id: str | None = None) -> str:
        return self.call(lambda: self.ops.start(name, instance_id, input_text))

    def instance(self, instance_id: str) -> Instance | None:
        return self.call(lambda: self.store.get_instance(instance_id))

    def wait(self, instance_id: str, statuses=TERMINAL_STATUSES, timeout: float = 10.0) -> Instance:
        def reached() -> Instance | None:
            instance = self.instance(instance_id)
            return instance if instance is not None and instance.status in statuses else None
        return poll(reached, timeout, what=f"{instance_id} to reach {sorted(s.value for s in statuses)}")

    def history_kinds(self, instance_id: str) -> list[str]:
        return [EventType(e["EventType"]).name for e in self.call(lambda: self.store.get_history(instance_id))]

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
    assert done.output.startswith('"Orchestrator function \'Doomed\' failed: Activity function \'Explode\' failed: '
                                  'ValueError: cannot handle \'boom\'')
    history = host.call(lambda: host.store.get_history(instance_id))
    (failed,) = [e for e in history if e["EventType"] == EventType.TaskFailed]
    assert "Traceback" in failed["Details"]


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
    store = Store(path)
    instance_id = Operations(store, lambda: ["Chain"], Clock(), lambda works, messages: None).start("Chain", None, json.dumps("1"))
    store.close()

    second = Running(app, path, Clock())
    try:
        assert second.wait(instance_id).output == '[1, "1!"]'
    finally:
        second.close()

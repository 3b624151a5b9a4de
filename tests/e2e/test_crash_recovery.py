"""kill -9 of devhost mid-run, then a restart on the same store: every started instance finishes, once."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devhost.testing import poll

ROOT = Path(__file__).resolve().parents[2]
SLOW_APP = ROOT / "tests" / "apps" / "slow_chain"
GREETINGS = ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


def _history_kinds(host, instance_id):
    events = host.status(instance_id, showHistory=True)["historyEvents"]
    return [e["EventType"] for e in events]


@pytest.mark.usefixtures("local_only")
def test_sigkill_mid_run_then_restart_finishes_every_instance(devhost_factory):
    host = devhost_factory(SLOW_APP).start()
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: host.start_instance("SlowChain", {"steps": 5, "seconds": 0.05}), range(40)))

    def some_mid_run():
        statuses = [host.status(i)["runtimeStatus"] for i in ids[:10]]
        return "Running" in statuses

    poll(some_mid_run, timeout=10, what="instances to be mid-run")
    host.kill()
    host.start()
    for instance_id in ids:
        final = host.wait(instance_id, timeout=30)
        assert final["runtimeStatus"] == "Completed", final
        assert final["output"] == [0, 1, 2, 3, 4]
        kinds = _history_kinds(host, instance_id)
        assert kinds.count("TaskCompleted") == 5, kinds
        assert kinds.count("ExecutionCompleted") == 1, kinds


@pytest.mark.usefixtures("local_only")
def test_sigkill_right_after_starts_loses_nothing(devhost_factory, app_root):
    host = devhost_factory(app_root).start()
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: host.start_instance(), range(100)))
    host.kill()  # whatever was accepted (202) must survive
    host.start()
    for instance_id in ids:
        final = host.wait(instance_id, timeout=30)
        assert final["runtimeStatus"] == "Completed"
        assert final["output"] == GREETINGS
        assert _history_kinds(host, instance_id).count("TaskCompleted") == 3


@pytest.mark.usefixtures("local_only")
def test_clean_stop_and_restart_keeps_instances(devhost_factory):
    host = devhost_factory(SLOW_APP).start()
    instance_id = host.start_instance("SlowChain", {"steps": 20, "seconds": 0.05})
    poll(lambda: host.status(instance_id)["runtimeStatus"] == "Running", timeout=10, what="running")
    assert host.stop() == 0  # Ctrl-C exits cleanly
    host.start()
    assert host.wait(instance_id, timeout=30)["output"] == list(range(20))


@pytest.mark.usefixtures("local_only")
def test_second_devhost_on_same_store_refuses_to_start(devhost_factory, app_root, tmp_path):
    store = tmp_path / "shared.sqlite"
    first = devhost_factory(app_root, store=store).start()
    second = devhost_factory(app_root, store=store)
    with pytest.raises(RuntimeError) as failure:
        second.start(timeout=10)
    assert "in use by another devhost" in str(failure.value)
    assert first.http.get(first.url("/admin/host/status"), timeout=5).status_code == 200


@pytest.mark.usefixtures("local_only")
def test_foreign_or_corrupt_store_is_refused_not_reset(devhost_factory, app_root, tmp_path):
    import sqlite3

    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE customers (id INTEGER)")
        db.execute("INSERT INTO customers VALUES (1)")
    with pytest.raises(RuntimeError) as failure:
        devhost_factory(app_root, store=foreign).start(timeout=10)
    assert "did not create" in str(failure.value)
    with sqlite3.connect(foreign) as db:
        assert db.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 1

    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not a database" * 100)
    with pytest.raises(RuntimeError) as failure:
        devhost_factory(app_root, store=corrupt).start(timeout=10)
    assert "not a usable devhost store" in str(failure.value)
    assert corrupt.read_bytes() == b"this is not a database" * 100


@pytest.mark.usefixtures("local_only")
def test_a_worker_killed_by_user_code_is_replaced_and_the_activity_runs_again(devhost_factory, tmp_path):
    host = devhost_factory(ROOT / "tests" / "apps" / "worker_crash").start()
    marker = tmp_path / "crashed-once"
    # Started by the SDK's client from here, not through the app's HTTP starter: the activity kills the worker
    # process, and an HTTP starter still finishing in it would die too and answer 500, as in the real host.
    instance_id = host.sdk(lambda client: client.start_new("Survive", None, {"marker": str(marker)}))
    final = host.wait(instance_id, timeout=30)
    assert final["runtimeStatus"] == "Completed", final
    assert final["output"] == "survived"
    assert marker.exists()
    assert "the worker process exited (code 13)" in host.log()
    # The host kept serving throughout, and the new worker runs the app.
    assert host.wait(host.start_instance("Survive", {"marker": str(marker)}))["output"] == "survived"


@pytest.mark.usefixtures("local_only")
def test_killed_three_times_during_fan_outs_every_activity_counts_once(devhost_factory):
    host = devhost_factory(ROOT / "tests" / "apps" / "bench").start()
    ids = []
    for _ in range(3):
        with ThreadPoolExecutor(4) as pool:
            started = list(pool.map(lambda i: host.start_instance("FanOut", 300), range(4)))
        ids += started
        poll(lambda: any(host.status(i)["runtimeStatus"] == "Running" for i in started),
             timeout=10, what="a fan-out to be running")
        host.kill()
        host.start()
    for instance_id in ids:
        final = host.wait(instance_id, timeout=60)
        assert final["runtimeStatus"] == "Completed", final
        assert final["output"] == 300 * 299
        assert host.event_kinds(instance_id).count("TaskCompleted") == 300


@pytest.mark.usefixtures("local_only")
def test_an_entity_batch_that_kills_the_worker_runs_again_instead_of_failing(devhost_factory, tmp_path):
    import azure.durable_functions as df

    host = devhost_factory(ROOT / "tests" / "apps" / "worker_crash").start()
    marker = tmp_path / "entity-crashed-once"
    entity = df.EntityId("Fragile", "k")
    host.sdk(lambda client: client.signal_entity(entity, "crash", str(marker)))

    def state():
        return host.sdk(lambda client: client.read_entity_state(entity)).entity_state

    assert poll(state, timeout=30, what="the entity to run again on the new worker") == "survived"
    assert "the worker process exited (code 13)" in host.log()

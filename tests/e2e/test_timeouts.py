"""functionTimeout and blocking user code, on the timeouts app (modelled on the extension's Python timeout tests,
with a 3 s timeout) and on the bench app's CPU-bound Spin: a timed-out activity or entity operation fails as a
catchable exception and only it fails; blocking code holds one thread, not the app; two worker processes run two
CPU-bound activities at once."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import azure.durable_functions as df
import pytest

from devhost.testing import poll

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_APP = ROOT / "tests" / "apps" / "timeouts"
BENCH_APP = ROOT / "tests" / "apps" / "bench"
PASSED = "test passed: exception thrown"


def start(host, name, body=None) -> str:
    """Through the app's own starter (/api/start/{functionName}), as the extension's README calls it."""
    response = host.http.post(host.url(f"/api/start/{name}"), json=body, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()["id"]


@pytest.mark.usefixtures("local_only")
def test_timed_out_activity_and_entity_operation_are_caught_by_their_orchestrations(devhost_factory):
    host = devhost_factory(TIMEOUT_APP).start()
    activity = start(host, "ActivityTimeout", 60)
    entity = start(host, "EntityTimeout1", 60)

    for instance_id in (activity, entity):
        final = host.wait(instance_id, timeout=90)
        assert (final["runtimeStatus"], final["output"]) == ("Completed", PASSED), final
    failed = [e for e in host.history(activity) if e["EventType"] == "TaskFailed"]
    assert [e["Reason"] for e in failed] == [
        "Activity function 'SlowActivity' failed: Timeout value of 00:00:03 was exceeded by function: "
        "Functions.SlowActivity"]
    log = host.log()
    assert "Timeout value of 00:00:03 exceeded by function 'Functions.SlowActivity'" in log
    assert "Timeout value of 00:00:03 exceeded by function 'Functions.SlowEntity'" in log
    # The entity's state is what it was before the batch that timed out: nothing of it was committed.
    state = host.sdk(lambda client: client.read_entity_state(df.EntityId("SlowEntity", entity)))
    assert not state.entity_exists

    response = host.http.get(host.url("/api/SlowHttp"), params={"seconds": "60"}, timeout=30)
    assert response.status_code == 500  # what the host answers for an HTTP function past its timeout
    assert host.http.get(host.url("/api/Ping"), timeout=10).text == "pong"  # on the worker that replaced it


@pytest.mark.usefixtures("local_only")
def test_a_timeout_fails_only_the_invocation_that_timed_out(devhost_factory, tmp_path):
    host = devhost_factory(TIMEOUT_APP).start()
    started, marker = tmp_path / "slow-started", tmp_path / "held-once"
    slow = start(host, "ActivityTimeout", {"seconds": 60, "started": str(started)})
    poll(started.exists, timeout=20, what="SlowActivity to run")
    survivor = start(host, "Survivor", {"marker": str(marker)})
    poll(marker.exists, timeout=20, what="OnceHeld to run beside SlowActivity, on the same worker process")

    assert host.wait(slow, timeout=60)["output"] == PASSED
    final = host.wait(survivor, timeout=60)
    assert (final["runtimeStatus"], final["output"]) == ("Completed", "ran again"), final
    kinds = host.event_kinds(survivor)
    assert kinds.count("TaskCompleted") == 1 and "TaskFailed" not in kinds, kinds
    assert "its 1 other invocations run again" in host.log()


@pytest.mark.usefixtures("local_only")
def test_blocking_code_holds_one_thread_not_the_app(devhost_factory, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(TIMEOUT_APP, app)
    config = json.loads((app / "host.json").read_text())
    (app / "host.json").write_text(json.dumps(dict(config, functionTimeout="-1")))  # no limit: nothing is killed
    host = devhost_factory(app).start()
    entity_gate, activity_gate = tmp_path / "entity-gate", tmp_path / "activity-gate"

    door = df.EntityId("Door", "a")
    host.sdk(lambda client: client.signal_entity(door, "hold", {"gate": str(entity_gate)}))
    poll(Path(f"{entity_gate}.held").exists, timeout=20, what="the entity operation to block")
    held = start(host, "Quick", {"gate": str(activity_gate)})
    poll(Path(f"{activity_gate}.held").exists, timeout=20, what="the activity to block")

    # While an entity operation and an activity block their threads, the rest of the app runs:
    assert host.http.get(host.url("/api/Ping"), timeout=10).text == "pong"  # an HTTP function
    quick = host.wait(start(host, "Quick"), timeout=20)  # an orchestration with its activity
    assert (quick["runtimeStatus"], quick["output"]) == ("Completed", "slept 0s"), quick
    other = df.EntityId("Door", "b")  # another entity (of the same entity function)
    host.sdk(lambda client: client.signal_entity(other, "count"))
    assert poll(lambda: host.sdk(lambda client: client.read_entity_state(other)).entity_state == 1, timeout=20,
                what="another entity to run its operation")
    assert not entity_gate.exists() and not activity_gate.exists()  # both were still blocked throughout

    entity_gate.touch()
    activity_gate.touch()
    assert host.wait(held, timeout=20)["output"] == "released"


@pytest.mark.usefixtures("local_only")
def test_two_worker_processes_run_two_cpu_bound_activities_at_once(devhost_factory, tmp_path):
    host = devhost_factory(BENCH_APP, env={"FUNCTIONS_WORKER_PROCESS_COUNT": "2"}).start(timeout=30)
    record = tmp_path / "runs"
    record.mkdir()
    final = host.wait(host.start_instance("SpinFanOut", {"n": 2, "work": 4_000_000, "record": str(record)}),
                      timeout=120)
    assert final["output"] == 2, final

    runs = [json.loads(p.read_text()) for p in record.iterdir()]
    assert len(runs) == 2
    assert runs[0]["pid"] != runs[1]["pid"]  # two processes, not two threads of one
    assert max(r["start"] for r in runs) < min(r["end"] for r in runs)  # and at the same time

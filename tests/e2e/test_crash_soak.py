"""Crash soak: kill -9 of the host and of its workers, again and again, during a mixed workload (chains, fan-outs,
sub-orchestrations, entity signals, durable timers), then every instance's output, the exact entity counts and the
raw history are checked: nothing lost, nothing done twice. A second soak stops (SIGSTOP) each replacement worker
during its start-up while work keeps being started, so every replacement hangs until its start deadline. Bounded
for CI; for a longer run locally:

    DEVHOST_SOAK_CYCLES=40 DEVHOST_SOAK_INSTANCES=30 DEVHOST_SOAK_FAN=20 pytest tests/e2e/test_crash_soak.py

DEVHOST_SOAK_SEED replays one run's kill points; DEVHOST_SOAK_STOP_CYCLES sets the second soak's stopped starts."""
from __future__ import annotations

import os
import random
import signal
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import azure.durable_functions as df
import pytest

from devhost.model import EventType
from devhost.testing import poll

SOAK_APP = Path(__file__).resolve().parents[1] / "apps" / "soak"
CYCLES = int(os.environ.get("DEVHOST_SOAK_CYCLES", "8"))
PER_CYCLE = int(os.environ.get("DEVHOST_SOAK_INSTANCES", "12"))
FAN = int(os.environ.get("DEVHOST_SOAK_FAN", "8"))
SEED = int(os.environ.get("DEVHOST_SOAK_SEED", str(random.randrange(1 << 30))))
STOP_CYCLES = int(os.environ.get("DEVHOST_SOAK_STOP_CYCLES", "5"))
TALLIES = ("a", "b", "c")
WEBHOOK = "/runtime/webhooks/durabletask"


def expected_output(k: int) -> dict:
    return {"chain": k + 2, "fan": sum(i + k for i in range(FAN)), "child": k + 100}


def duplicates(history: list[dict]) -> list[str]:
    """What a replayed or twice-recorded step leaves in a history: the same task, timer or child recorded twice,
    or more than one start or end."""
    keys: Counter = Counter()
    for e in history:
        kind = EventType(e["EventType"]).name
        if kind in ("TaskScheduled", "TimerCreated", "SubOrchestrationInstanceCreated", "EventSent"):
            keys[(kind, e.get("EventId"))] += 1
        elif kind in ("TaskCompleted", "TaskFailed", "SubOrchestrationInstanceCompleted",
                      "SubOrchestrationInstanceFailed"):
            keys[(kind, e.get("TaskScheduledId"))] += 1
        elif kind == "TimerFired":
            keys[(kind, e.get("TimerId"))] += 1
        elif kind in ("ExecutionStarted", "ExecutionCompleted"):
            keys[(kind, None)] += 1
    return [f"{kind} {key} x{n}" for (kind, key), n in keys.items() if n > 1]


class Workload:
    """Mixed instances started through the management API; what was acknowledged (202) is remembered."""

    def __init__(self, host, rng: random.Random) -> None:
        self.host, self.rng = host, rng
        self.started: dict[str, int] = {}
        self.tallies: Counter = Counter()

    def start(self, k: int) -> str:
        tally = TALLIES[k % len(TALLIES)]
        body = {"k": k, "fan": FAN, "tally": tally, "timer": self.rng.choice((0, 0.2, 1))}
        response = self.host.http.post(self.host.url(f"{WEBHOOK}/orchestrators/Mixed"), json=body, timeout=30)
        assert response.status_code == 202, response.text
        self.tallies[tally] += 1
        return response.json()["id"]

    def cycle(self, cycle: int) -> list[str]:
        """Start this cycle's instances, four at a time."""
        ks = [cycle * 1000 + i for i in range(PER_CYCLE)]
        with ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(self.start, ks))
        self.started.update(zip(ids, ks))
        return ids

    def under_way(self, ids: list[str]) -> None:
        """Return once a random instance of `ids` has come a random way."""
        watched, depth = self.rng.choice(ids), self.rng.randint(2, 2 * FAN + 8)
        poll(lambda: len(self.host.history(watched, output=False)) >= depth
             or self.host.status(watched)["runtimeStatus"] == "Completed", timeout=60,
             what=f"{watched} to have {depth} history events")


@pytest.mark.usefixtures("local_only")
def test_kill_9_of_host_and_workers_during_a_mixed_workload_loses_and_repeats_nothing(devhost_factory):
    rng = random.Random(SEED)
    print(f"soak: {CYCLES} cycles x {PER_CYCLE} instances, fan-out {FAN}, DEVHOST_SOAK_SEED={SEED}")
    host = devhost_factory(SOAK_APP).start()
    work = Workload(host, rng)

    for cycle in range(CYCLES):
        work.under_way(work.cycle(cycle))  # kill once the workload is under way
        if cycle % 2 == 0:
            host.kill()
            host.start()
        else:
            assert poll(host.kill_workers, timeout=10, what="a worker to kill")

    nothing_lost_or_repeated(host, work)


@pytest.mark.usefixtures("local_only")
def test_workers_stopped_again_and_again_while_starting_lose_nothing_acknowledged(devhost_factory, tmp_path):
    """Each cycle: work under way, the worker killed, its replacement stopped (SIGSTOP) during its start-up, more
    work started while no worker is up; the host kills the stopped one at its 2.5 s start deadline and starts
    another."""
    rng = random.Random(SEED)
    print(f"stop soak: {STOP_CYCLES} cycles x {PER_CYCLE} instances, fan-out {FAN}, DEVHOST_SOAK_SEED={SEED}")
    gate = tmp_path / "gate"  # while it is missing, a worker's start-up waits at import (WaitsAtImport)
    gate.touch()
    host = devhost_factory(SOAK_APP, env={"DEVHOST_TEST_IMPORT_GATE": str(gate),
                                          "DEVHOST_WORKER_START_TIMEOUT": "2.5"}).start(timeout=30)
    work = Workload(host, rng)
    stopped: set[int] = set()

    for cycle in range(STOP_CYCLES):
        work.under_way(work.cycle(2 * cycle))
        gate.unlink()
        killed = poll(host.kill_workers, timeout=10, what="a worker to kill")
        replacement = poll(lambda: host.worker_pids() - killed, timeout=15, interval=0.001,
                           what="a replacement worker")
        for pid in replacement:
            os.kill(pid, signal.SIGSTOP)
        stopped |= replacement
        work.cycle(2 * cycle + 1)  # acknowledged while the only worker is stopped in its start-up
        gate.touch()

    nothing_lost_or_repeated(host, work)
    assert poll(lambda: not stopped & host.worker_pids(), timeout=10, what="every stopped worker to be replaced")
    assert host.log().count("did not finish starting within 2.5 s") >= STOP_CYCLES


def nothing_lost_or_repeated(host, work: Workload) -> None:
    """Every acknowledged instance completed with its output, each step recorded once, each signal counted once."""
    for instance_id, k in work.started.items():
        final = host.wait(instance_id, timeout=120)
        assert final["runtimeStatus"] == "Completed", (SEED, final)
        assert final["output"] == expected_output(k), (SEED, instance_id)
        history = host.raw_history(instance_id)
        assert duplicates(history) == [], (SEED, instance_id, duplicates(history))
        kinds = Counter(EventType(e["EventType"]).name for e in history)
        assert (kinds["TaskCompleted"], kinds["SubOrchestrationInstanceCompleted"], kinds["TimerFired"],
                kinds["EventSent"]) == (2 + FAN, 1, 1, 1), (SEED, instance_id, kinds)

    def counts() -> dict[str, int]:
        return {key: host.sdk(lambda client: client.read_entity_state(df.EntityId("Tally", key))).entity_state
                for key in TALLIES}

    # Signals are delivered after their orchestration completes; each one counts exactly once.
    assert poll(lambda: counts() == dict(work.tallies), timeout=30,
                what=f"entity counts {dict(work.tallies)}; seed {SEED}")

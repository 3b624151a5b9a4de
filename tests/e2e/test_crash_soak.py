"""Crash soak: kill -9 of the host and of its workers, again and again, during a mixed workload (chains, fan-outs,
sub-orchestrations, entity signals, durable timers), then every instance's output, the exact entity counts and the
raw history are checked: nothing lost, nothing done twice. Bounded for CI; for a longer run locally:

    DEVHOST_SOAK_CYCLES=40 DEVHOST_SOAK_INSTANCES=30 DEVHOST_SOAK_FAN=20 pytest tests/e2e/test_crash_soak.py

DEVHOST_SOAK_SEED replays one run's kill points."""
from __future__ import annotations

import os
import random
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


@pytest.mark.usefixtures("local_only")
def test_kill_9_of_host_and_workers_during_a_mixed_workload_loses_and_repeats_nothing(devhost_factory):
    rng = random.Random(SEED)
    print(f"soak: {CYCLES} cycles x {PER_CYCLE} instances, fan-out {FAN}, DEVHOST_SOAK_SEED={SEED}")
    host = devhost_factory(SOAK_APP).start()
    started: dict[str, int] = {}
    tallies: Counter = Counter()

    def start(k: int) -> str:
        tally = TALLIES[k % len(TALLIES)]
        body = {"k": k, "fan": FAN, "tally": tally, "timer": rng.choice((0, 0.2, 1))}
        response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Mixed"), json=body, timeout=30)
        assert response.status_code == 202, response.text
        tallies[tally] += 1
        return response.json()["id"]

    for cycle in range(CYCLES):
        ks = [cycle * 1000 + i for i in range(PER_CYCLE)]
        with ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(start, ks))
        started.update(zip(ids, ks))
        # Kill once the workload is under way: a random instance of this cycle has come a random way.
        watched, depth = rng.choice(ids), rng.randint(2, 2 * FAN + 8)
        poll(lambda: len(host.history(watched, output=False)) >= depth
             or host.status(watched)["runtimeStatus"] == "Completed", timeout=60,
             what=f"{watched} to have {depth} history events")
        if cycle % 2 == 0:
            host.kill()
            host.start()
        else:
            assert poll(host.kill_workers, timeout=10, what="a worker to kill")

    for instance_id, k in started.items():
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
    assert poll(lambda: counts() == dict(tallies), timeout=30, what=f"entity counts {dict(tallies)}; seed {SEED}")

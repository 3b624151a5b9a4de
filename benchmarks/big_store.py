"""`make bench`'s big-store figures: a store seeded with many finished Hello instances (their full histories, as
episodes leave them), then start-up, status GET p50 against an empty store, a filtered paged query, a purge of them
all by filter (and the disk space it gives back), host RSS by instance count, and many instances running at once,
each waiting on an external event."""
from __future__ import annotations

import asyncio
import statistics
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import requests

from devhost.model import WEBHOOK_PATH, EpisodeOutcome, NewInstance, RuntimeStatus
from devhost.protocol import history_events as ev
from devhost.runtime.store.sqlite import SqliteStore
from devhost.testing import DevhostProcess

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
CITIES = ("Tokyo", "Seattle", "London")
API = f"{WEBHOOK_PATH}/instances"


def _finished_hello(store: SqliteStore, instance_id: str, at: datetime) -> None:
    """One Hello chain from start to Completed, written as its four episodes would commit it."""
    now = at.timestamp()
    started = store.create_instance(NewInstance(instance_id, "HelloOrchestrator", f"e-{instance_id}", None, None,
                                                ev.execution_started(at, instance_id, f"e-{instance_id}",
                                                                     "HelloOrchestrator", None)), now)
    history = [ev.orchestrator_started(at), started.event]
    for i, city in enumerate(CITIES):
        history.append(ev.task_scheduled(at, i, "Hello", f'"{city}"'))
        history += [ev.orchestrator_completed(at), ev.orchestrator_started(at),
                    ev.task_completed(at, i, f'"Hello {city}!"')]
    output = '["Hello Tokyo!", "Hello Seattle!", "Hello London!"]'
    history += [ev.execution_completed(at, "Completed", output), ev.orchestrator_completed(at)]
    instance = store.get_instance(instance_id)
    assert instance is not None
    store.commit_episode(instance, EpisodeOutcome(history, RuntimeStatus.Completed, consumed=[started.id],
                                                  output=output), now)


def seed(path: Path, n: int, chunk: int = 2000) -> float:
    """Write n finished Hello instances (one per second of created time from T0); returns the seconds it took."""
    began = time.perf_counter()

    async def write() -> None:
        store = SqliteStore(path)
        store.enable_group_commit(asyncio.get_running_loop())
        try:
            for start in range(0, n, chunk):
                for i in range(start, min(n, start + chunk)):
                    _finished_hello(store, f"seed-{i:07d}", T0 + timedelta(seconds=i))
                await store.durable()
        finally:
            store.close()

    asyncio.run(write())
    return time.perf_counter() - began


def rss_mb(pid: int) -> float:
    """Current resident memory of the host and its worker process together."""
    total = 0
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(c) for c in (task / "children").read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def started_host(root: Path, store: Path) -> tuple[DevhostProcess, float]:
    host = DevhostProcess(root, store=store)
    began = time.perf_counter()
    host.start(timeout=60)
    return host, time.perf_counter() - began


def status_p50_ms(hosts: list[tuple[DevhostProcess, list[str]]], rounds: int = 10,
                  per_round: int = 30) -> list[float]:
    """Status GET p50 of each host, the hosts taking turns in rounds so that the machine's load weighs on all."""
    sessions = [requests.Session() for _ in hosts]
    times: list[list[float]] = [[] for _ in hosts]
    for r in range(rounds):
        for (host, ids), session, out in zip(hosts, sessions, times):
            for i in range(r * per_round, (r + 1) * per_round):
                url = host.url(f"{API}/{ids[i % len(ids)]}")
                began = time.perf_counter()
                assert session.get(url, timeout=10).status_code == 200
                out.append((time.perf_counter() - began) * 1000)
    return [statistics.median(t) for t in times]


def paged_query_ms(host: DevhostProcess, pages: int = 10) -> dict[str, Any]:
    """Pages of 100 through the seeded instances, filtered by status, created time and id prefix."""
    session = requests.Session()
    params = {"runtimeStatus": "Completed", "createdTimeFrom": (T0 + timedelta(hours=1)).isoformat(),
              "createdTimeTo": (T0 + timedelta(days=30)).isoformat(), "instanceIdPrefix": "seed-00", "top": "100"}
    times, headers = [], {}
    for _ in range(pages):
        began = time.perf_counter()
        r = session.get(host.url(API), params=params, headers=headers, timeout=30)
        times.append((time.perf_counter() - began) * 1000)
        assert r.status_code == 200 and len(r.json()) == 100, (r.status_code, r.text[:200])
        headers = {"x-ms-continuation-token": r.headers["x-ms-continuation-token"]}
    return {"pages": pages, "p50_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


def purge_all(host: DevhostProcess, store: Path, n: int) -> dict[str, Any]:
    before = _file_mb(store)
    began = time.perf_counter()
    r = requests.delete(host.url(API), params={"createdTimeFrom": T0.isoformat(), "runtimeStatus": "Completed"},
                        timeout=600)
    elapsed = time.perf_counter() - began
    assert r.status_code == 200 and r.json()["instancesDeleted"] == n, r.text[:200]
    return {"purge_s": round(elapsed, 2), "store_mb_before": before, "store_mb_after": _file_mb(store)}


def _file_mb(store: Path) -> float:
    return round(sum(p.stat().st_size for p in store.parent.glob(store.name + "*") if p.is_file()) / 2**20, 1)


async def waiting_instances(host: DevhostProcess, n: int, concurrency: int = 32) -> float:
    """Start n instances of an orchestrator that waits for an external event; seconds until all are Running."""
    sem = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as session:
        async def start(i: int) -> None:
            async with sem:
                url = host.url(f"{WEBHOOK_PATH}/orchestrators/Waiter/wait-{i:06d}")
                async with session.post(url) as r:
                    assert r.status == 202, await r.text()

        began = time.perf_counter()
        await asyncio.gather(*(start(i) for i in range(n)))
        while True:
            async with session.get(host.url(API), params={"runtimeStatus": "Pending", "top": "1"}) as r:
                if not await r.json():
                    break
            await asyncio.sleep(0.1)
        return time.perf_counter() - began


def big_store(root: Path, bench_app: Path, tmp: Path, n: int, waiting: int) -> dict[str, Any]:
    """Every big-store figure, with the empty-store ones of the same run beside them."""
    out: dict[str, Any] = {"instances": n}
    empty_path, path = tmp / "empty.sqlite", tmp / "big.sqlite"
    host, _ = started_host(root, empty_path)
    try:
        ids = [host.start_instance("HelloOrchestrator") for _ in range(20)]
        for instance_id in ids:
            host.wait(instance_id, timeout=60)
    finally:
        host.close()
    out["seed_s"] = round(seed(path, n), 1)
    empty, big = [], []
    for _ in range(3):  # alternately, so that the machine's load weighs on both alike
        for store, times in ((empty_path, empty), (path, big)):
            started, seconds = started_host(root, store)
            started.close()
            times.append(seconds)
    out["startup_empty_s"], out["startup_s"] = statistics.median(empty), statistics.median(big)
    out["startup_ratio_to_empty"] = round(out["startup_s"] / out["startup_empty_s"], 2)
    empty_host, _ = started_host(root, empty_path)
    host, _ = started_host(root, path)
    try:
        seeded = [f"seed-{i:07d}" for i in range(0, n, max(1, n // 300))]
        empty_p50, big_p50 = status_p50_ms([(empty_host, ids), (host, seeded)])
        out["status_p50_empty_ms"], out["status_p50_ms"] = round(empty_p50, 3), round(big_p50, 3)
        out["status_p50_ratio_to_empty"] = round(big_p50 / empty_p50, 2)
        out["rss_empty_mb"] = round(rss_mb(empty_host.process.pid), 1)
        out["rss_mb"] = round(rss_mb(host.process.pid), 1)
        out["rss_ratio_to_empty"] = round(out["rss_mb"] / out["rss_empty_mb"], 2)
        out["paged_query"] = paged_query_ms(host)
        out["purge"] = purge_all(host, path, n)
    finally:
        host.close()
        empty_host.close()
    host, _ = started_host(bench_app, tmp / "waiting.sqlite")
    try:
        out["waiting"] = {"instances": waiting,
                          "start_s": round(asyncio.run(waiting_instances(host, waiting)), 1),
                          "rss_mb": round(rss_mb(host.process.pid), 1)}
    finally:
        host.close()
    out["targets_met"] = {
        "startup_under_2s": out["startup_s"] < 2.0,
        "startup_flat_in_instances": out["startup_ratio_to_empty"] <= 1.2,
        "status_p50_at_most_1_5x_empty": out["status_p50_ratio_to_empty"] <= 1.5,
        "paged_query_under_50ms": out["paged_query"]["max_ms"] < 50,
        "purge_under_10s": out["purge"]["purge_s"] < 10,
        "purge_gives_space_back": out["purge"]["store_mb_after"] < out["purge"]["store_mb_before"] / 4,
        "rss_flat_in_instances": out["rss_ratio_to_empty"] <= 1.2,
        "waiting_rss_under_200mb": out["waiting"]["rss_mb"] < 200,
    }
    return out

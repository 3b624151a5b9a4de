"""`make bench`: figures of devhost on this machine, printed as JSON. Latency and throughput of the Hello app,
start-up time, peak RSS (host and worker process together); fan-out/fan-in of 1,000 activities and 1,000 signals to one entity."""
from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import requests

from .testing import DevhostProcess, poll

ROOT = Path(__file__).resolve().parent.parent
BENCH_APP = ROOT / "tests" / "apps" / "bench"
TARGETS = {"throughput_per_s": 300, "p50_ms": 15, "startup_s": 1.0, "peak_rss_mb": 150,
           "fan_out_1000_s": 2.0, "entity_signals_per_s": 1000}


def _hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of the host and its worker process together."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return (_hwm_kb(pid) + sum(_hwm_kb(c) for c in children)) / 1024


def startup(host: DevhostProcess) -> float:
    """Seconds from process start to the first answered request."""
    began = time.perf_counter()
    host.start(timeout=30)
    return time.perf_counter() - began


def latency(host: DevhostProcess, n: int = 200) -> list[float]:
    """POST to Completed for single orchestrations, one at a time, polling the status URL tightly."""
    session = requests.Session()
    out = []
    for _ in range(n):
        began = time.perf_counter()
        body = session.post(host.url("/api/orchestrators/HelloOrchestrator"), timeout=10).json()
        url = body["statusQueryGetUri"].replace("localhost", "127.0.0.1")
        poll(lambda: session.get(url, timeout=10).json()["runtimeStatus"] == "Completed", 10, interval=0)
        out.append((time.perf_counter() - began) * 1000)
    return out


async def throughput(host: DevhostProcess, n: int = 2000, concurrency: int = 64) -> float:
    """n Hello orchestrations started concurrently over HTTP; orchestrations per second until all Completed."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        began = time.perf_counter()
        sem = asyncio.Semaphore(concurrency)

        async def one() -> str:
            async with sem:
                async with session.post(host.url("/api/orchestrators/HelloOrchestrator")) as r:
                    return (await r.json())["id"]

        ids = await asyncio.gather(*(one() for _ in range(n)))
        query = host.url("/runtime/webhooks/durabletask/instances")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            async with session.get(query, params={"runtimeStatus": "Pending,Running", "top": "1"}) as r:
                if not await r.json():
                    break
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - began
        async with session.get(query, params={"runtimeStatus": "Completed", "top": str(n + 500)}) as r:
            done = {item["instanceId"] for item in await r.json()}
        assert set(ids) <= done, "not every orchestration completed"
        return n / elapsed


def fan_out(host: DevhostProcess, n: int = 1000) -> float:
    began = time.perf_counter()
    instance_id = host.start_instance("FanOut", n)
    final = host.wait(instance_id, timeout=120)
    elapsed = time.perf_counter() - began
    assert final["output"] == n * (n - 1), final
    return elapsed


async def entity_signals(host: DevhostProcess, n: int = 1000, concurrency: int = 64) -> float:
    url = host.url("/runtime/webhooks/durabletask/entities/Counter/bench")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        began = time.perf_counter()
        sem = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with sem:
                # As the SDK client sends it: the JSON text of the JSON-encoded input.
                async with session.post(url, params={"op": "add"}, json=json.dumps(1)) as r:
                    assert r.status == 202

        await asyncio.gather(*(one() for _ in range(n)))
        deadline, state = time.monotonic() + 120, None
        while time.monotonic() < deadline:
            async with session.get(url) as r:
                state = await r.json() if r.status == 200 else None
            if state == n:
                break
            await asyncio.sleep(0.002)
        assert state == n, f"the counter reached {state}, not {n}"
        return n / (time.perf_counter() - began)


def main() -> int:
    durability = os.environ.get("DEVHOST_BENCH_DURABILITY", "normal")
    results: dict = {
        "conditions": {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
            "python": sys.version.split()[0],
            "durability": {"normal": "SQLite WAL, synchronous=NORMAL: survives kill -9, not power loss",
                           "full": "SQLite WAL, synchronous=FULL: survives power loss"}[durability],
            "client": "same machine, loopback HTTP",
        }
    }
    with tempfile.TemporaryDirectory(prefix="devhost-bench-") as tmp:
        args = ("--durability", durability)
        hello = DevhostProcess(ROOT, store=Path(tmp) / "hello.sqlite", extra_args=args)
        results["startup_s"] = round(startup(hello), 3)
        try:
            lat = latency(hello)
            results["latency_ms"] = {"n": len(lat), "p50": round(statistics.median(lat), 2),
                                     "p95": round(statistics.quantiles(lat, n=20)[18], 2)}
            results["throughput_per_s"] = round(asyncio.run(throughput(hello)), 1)
            results["peak_rss_mb"] = round(peak_rss_mb(hello.process.pid), 1)
        finally:
            hello.close()
        other = DevhostProcess(BENCH_APP, store=Path(tmp) / "bench.sqlite", extra_args=args).start()
        try:
            results["fan_out_1000_s"] = round(fan_out(other), 3)
            results["entity_signals_per_s"] = round(asyncio.run(entity_signals(other)), 1)
            results["bench_app_peak_rss_mb"] = round(peak_rss_mb(other.process.pid), 1)
        finally:
            other.close()
    met = {
        "throughput_per_s": results["throughput_per_s"] >= TARGETS["throughput_per_s"],
        "p50_ms": results["latency_ms"]["p50"] <= TARGETS["p50_ms"],
        "startup_s": results["startup_s"] <= TARGETS["startup_s"],
        "peak_rss_mb": results["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
        "fan_out_1000_s": results["fan_out_1000_s"] <= TARGETS["fan_out_1000_s"],
        "entity_signals_per_s": results["entity_signals_per_s"] >= TARGETS["entity_signals_per_s"],
    }
    results["targets"] = TARGETS
    results["targets_met"] = met
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

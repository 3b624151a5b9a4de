"""`make bench-peers`: the three-city Hello chain on devhost (over its HTTP API, with an asyncio client) on two paths,
the management API's create-and-wait and the user's (the app's own starter, then status polling), and, in the same
run, on DBOS (SQLite) and durabletask-python (in-memory backend), each in .venv-peers; prints orchestrations/s, p50
and CPU seconds per orchestration for each, and both devhost paths' ratios to the best peer, as JSON."""
from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Awaitable, Callable

import aiohttp

from devhost.model import WEBHOOK_PATH
from devhost.testing import DevhostProcess

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "tests" / "peers"
EXPECTED = ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
START = f"{WEBHOOK_PATH}/orchestrators/HelloOrchestrator"
WAIT = {"timeout": "60", "pollingInterval": "1"}  # both in seconds, as the extension reads them


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process and its children (devhost's worker), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(c) for c in (task / "children").read_text().split()]
    total = 0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


async def _run_one(session: aiohttp.ClientSession, host: DevhostProcess) -> str:
    """Start one Hello chain and wait for it in the same request (the HTTP API's create-and-wait: timeout and
    pollingInterval on the start), as the peers' clients wait for completion."""
    async with session.post(host.url(START), params=WAIT) as r:
        assert r.status == 200, await r.text()
        assert await r.json() == EXPECTED
        return r.headers.get("Location", "")


async def _figures(host: DevhostProcess, latency_n: int, throughput_n: int, concurrency: int, start_path: str,
                   run_one: Callable[[aiohttp.ClientSession, DevhostProcess], Awaitable[str]]) -> dict:
    """p50 and p95 of `run_one` one at a time (after five to warm up); then throughput: `throughput_n` starts at
    `start_path`, `concurrency` at a time, done when a query finds none Pending or Running; and the CPU of host and
    worker per orchestration."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        for _ in range(5):
            await run_one(session, host)
        times = []
        for _ in range(latency_n):
            began = time.perf_counter()
            await run_one(session, host)
            times.append((time.perf_counter() - began) * 1000)
        sem = asyncio.Semaphore(concurrency)

        async def start() -> str:
            async with sem:
                async with session.post(host.url(start_path)) as r:
                    assert r.status == 202, await r.text()
                    return (await r.json())["id"]

        cpu, began = cpu_seconds(host.process.pid), time.perf_counter()
        ids = await asyncio.gather(*(start() for _ in range(throughput_n)))
        await until_none_running(session, host)
        elapsed, cpu = time.perf_counter() - began, cpu_seconds(host.process.pid) - cpu
        query = host.url(f"{WEBHOOK_PATH}/instances")
        async with session.get(query, params={"runtimeStatus": "Completed", "top": str(throughput_n * 3)}) as r:
            done = {item["instanceId"] for item in await r.json()}
        assert set(ids) <= done, "not every orchestration completed"
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(statistics.quantiles(times, n=20)[18], 2),
            "per_s": round(throughput_n / elapsed, 1), "cpu_s_per_orchestration": round(cpu / throughput_n, 5)}


async def until_none_running(session: aiohttp.ClientSession, host: DevhostProcess) -> None:
    query = host.url(f"{WEBHOOK_PATH}/instances")
    while True:
        async with session.get(query, params={"runtimeStatus": "Pending,Running", "top": "1"}) as r:
            if not await r.json():
                return
        await asyncio.sleep(0.005)


async def devhost_figures(host: DevhostProcess, latency_n: int, throughput_n: int,
                          concurrency: int = 64) -> dict:
    """devhost at its best: starts through the management API, each waited for in its own request."""
    figures = await _figures(host, latency_n, throughput_n, concurrency, START, _run_one)
    return {"peer": "devhost", **figures,
            "conditions": f"separate process over loopback HTTP (start: POST {START}; latency: one at a time, "
                          f"each waited for in its start request (timeout=60&pollingInterval=1); throughput: "
                          f"{concurrency} concurrent starts, done when none is Pending or Running); CPU of host and "
                          f"worker process, not of the client"}


STARTER = "/api/orchestrators/HelloOrchestrator"  # the app's own HTTP starter (DurableFunctionsHttpStart)


async def _through_starter(session: aiohttp.ClientSession, host: DevhostProcess, poll_s: float = 0.001) -> str:
    """Start one Hello chain as a user of the app does: POST to its starter (an HTTP function whose start_new calls
    back into the host), then poll the statusQueryGetUri it answers with, every `poll_s`, until Completed."""
    async with session.post(host.url(STARTER)) as r:
        assert r.status == 202, await r.text()
        status_url = (await r.json())["statusQueryGetUri"].replace("localhost", "127.0.0.1")
    while True:
        async with session.get(status_url) as r:
            body = await r.json()
        if body["runtimeStatus"] == "Completed":
            assert body["output"] == EXPECTED, body
            return body["instanceId"]
        assert body["runtimeStatus"] in ("Pending", "Running"), body
        await asyncio.sleep(poll_s)


async def starter_figures(host: DevhostProcess, latency_n: int, throughput_n: int, concurrency: int = 32) -> dict:
    """The user's path: the app's own starter with status polling. p50: one at a time, polling every millisecond;
    throughput: `throughput_n` starts through the starter, `concurrency` at a time, done when a query finds none
    Pending or Running."""
    figures = await _figures(host, latency_n, throughput_n, concurrency, STARTER, _through_starter)
    return {"peer": "devhost (the app's starter)", **figures,
            "conditions": f"separate process over loopback HTTP, as a user of the app: start with POST {STARTER} "
                          f"(the app's HTTP function, whose start_new calls back into the host), then poll "
                          f"statusQueryGetUri; latency: one at a time, polling every millisecond; throughput: "
                          f"{throughput_n} starts, {concurrency} at a time, done when none is Pending or Running; "
                          f"CPU of host and worker process, not of the client"}


def _ratios(mine: dict, best: dict, dbos: dict | None) -> dict:
    return {"throughput_vs_best_peer": round(mine["per_s"] / best["per_s"], 2),
            "cpu_per_orchestration_vs_best_peer": round(mine["cpu_s_per_orchestration"]
                                                        / best["cpu_s_per_orchestration"], 2),
            "p50_vs_dbos": round(mine["p50_ms"] / dbos["p50_ms"], 2) if dbos else None}


def peer_figures(python: str, script: str, latency_n: int, throughput_n: int) -> dict:
    out = subprocess.run([python, str(PEERS / script), str(latency_n), str(throughput_n)], cwd=PEERS,
                         capture_output=True, text=True, timeout=900)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        return {"peer": script, "error": (out.stderr or out.stdout)[-2000:]}
    return json.loads(lines[-1])


def main(argv: list[str]) -> int:
    python = os.path.abspath(argv[0]) if argv else str(ROOT / ".venv-peers" / "bin" / "python")  # not resolved:
    # the venv's python is a link to the base interpreter, and only the link's path finds the venv
    latency_n = int(os.environ.get("BENCH_LATENCY_N", "200"))
    throughput_n = int(os.environ.get("BENCH_THROUGHPUT_N", "1000"))
    load = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="devhost-peers-") as tmp:
        host = DevhostProcess(ROOT, store=Path(tmp) / "hello.sqlite").start()
        try:
            mine = asyncio.run(devhost_figures(host, latency_n, throughput_n))
        finally:
            host.close()
        host = DevhostProcess(ROOT, store=Path(tmp) / "starter.sqlite").start()
        try:
            user = asyncio.run(starter_figures(host, latency_n, throughput_n))
        finally:
            host.close()
    peers = [peer_figures(python, "peer_dbos.py", latency_n, throughput_n),
             peer_figures(python, "peer_durabletask.py", latency_n, throughput_n)]
    measured = [p for p in peers if "per_s" in p]
    result: dict = {
        "conditions": {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
                                  f"{platform.release()}", "python": sys.version.split()[0],
                       "orchestration": "Hello chain: three activities one after another, as HelloOrchestrator",
                       "latency_n": latency_n, "throughput_n": throughput_n},
        "devhost": mine, "devhost_through_the_starter": user, "peers": peers,
        "load_average": {"at_start": load, "at_end": [round(x, 2) for x in os.getloadavg()]},
    }
    if measured:
        best = max(measured, key=lambda p: p["per_s"])
        dbos = next((p for p in measured if p["peer"].startswith("DBOS")), None)
        result["ratios"] = {"best_peer": best["peer"], "management_api": _ratios(mine, best, dbos),
                            "through_the_starter": _ratios(user, best, dbos)}
        result["goals"] = {f"{path}_{goal}": ok for path, figures in (("management_api", mine),
                                                                      ("through_the_starter", user))
                           for goal, ok in (("throughput_at_least_5x_best_peer", figures["per_s"] >= 5 * best["per_s"]),
                                            ("p50_at_most_half_of_dbos",
                                             bool(dbos) and figures["p50_ms"] <= dbos["p50_ms"] / 2))}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

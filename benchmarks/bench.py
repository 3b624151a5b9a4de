"""`make bench`: figures of devhost on this machine, printed as JSON. Latency and throughput of the Hello app,
start-up time, peak RSS (host and worker process together); fan-out/fan-in of 1,000 and 10,000 activities in the same
run with their ratio, the last episode of a 20,000-event history, 1,000 signals to one entity, what running an
orchestrator episode in the thread pool costs, a CPU-bound fan-out on one and two worker processes, long histories
(sequential activities, sub-orchestrations of them), devhost as a multiple of the unpatched SDK alone
(sdk_floor.py), and the big-store figures (bench_store.py; DEVHOST_BENCH_STORE_INSTANCES sets its size, default
100,000); RSS of host and worker before and after a burst of 3 MB request bodies. DEVHOST_BENCH_ONLY runs some
sections only (SECTIONS)."""
from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import requests

from benchmarks.big_store import big_store
from benchmarks.peers import cpu_seconds, until_none_running
from benchmarks.sdk_floor import episode_contexts, sdk_seconds
from devhost.app.bindings import Invocation, memoize_sdk, string_datum
from devhost.app.config import threadpool_size
from devhost.app.discovery import load_functions
from devhost.model import WEBHOOK_PATH, EventType, Query, RuntimeStatus
from devhost.protocol import history_events as ev
from devhost.runtime.store.sqlite import SqliteStore, read_history
from devhost.testing import DevhostProcess, poll, timestamp

ROOT = Path(__file__).resolve().parent.parent
BENCH_APP = ROOT / "tests" / "apps" / "bench"
TARGETS = {"throughput_per_s": 300, "p50_ms": 15, "startup_s": 1.0, "peak_rss_mb": 150,
           "fan_out_ratio": 12, "fan_out_episodes": 5, "entity_signals_per_s": 1000,
           "episode_thread_hop_us": 100, "cpu_fan_out_speedup_2_processes": 1.4,
           "big_bodies_host_rss_ratio": 2.5, "sequential_activities_per_s": 500,
           "sequential_end_to_end_vs_sdk": 0.15, "hello_cpu_vs_sdk": 0.5}


def _hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of the host and its worker process together."""
    return (_hwm_kb(pid) + sum(_hwm_kb(c) for c in _children(pid))) / 1024


def rss_mb(pid: int) -> float:
    """Resident memory of one process now."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def big_bodies(host: DevhostProcess, n: int = 60, size: int = 3 * 1024 * 1024, concurrency: int = 8) -> dict:
    """RSS of the host and its worker before and after n requests with bodies of `size` bytes, `concurrency` at a
    time: a third start an orchestration with that input, a third send the management API bodies that are not JSON,
    a third send them to the app's HTTP starter."""
    pids = {"host": host.process.pid, "worker": _children(host.process.pid)[0]}
    before = {name: rss_mb(pid) for name, pid in pids.items()}
    good = json.dumps({"blob": "x" * size}).encode()
    junk = b"{" + b"x" * size
    targets = [(host.url(f"{WEBHOOK_PATH}/orchestrators/HelloOrchestrator"), good),
               (host.url(f"{WEBHOOK_PATH}/orchestrators/HelloOrchestrator"), junk),
               (host.url("/api/orchestrators/HelloOrchestrator"), junk)]
    started: list[str] = []
    async with aiohttp.ClientSession() as session:
        room = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            url, body = targets[i % 3]
            async with room, session.post(url, data=body, headers={"Content-Type": "application/json"}) as answer:
                if answer.status == 202 and i % 3 == 0:
                    started.append((await answer.json())["id"])
                await answer.read()

        await asyncio.gather(*(one(i) for i in range(n)))
    for instance_id in started:
        host.wait(instance_id, timeout=60)
    after = {name: rss_mb(pid) for name, pid in pids.items()}
    return {"n": n, "body_mb": round(size / 2**20, 1), "concurrency": concurrency,
            **{f"{name}_rss_mb": {"before": round(before[name], 1), "after": round(after[name], 1),
                                  "ratio": round(after[name] / before[name], 2)} for name in pids}}


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


async def throughput(host: DevhostProcess, n: int = 2000, concurrency: int = 64) -> tuple[float, float]:
    """n Hello orchestrations started concurrently over HTTP: orchestrations per second until all Completed, and the
    host's and worker's CPU seconds per orchestration meanwhile."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        cpu, began = cpu_seconds(host.process.pid), time.perf_counter()
        sem = asyncio.Semaphore(concurrency)

        async def one() -> str:
            async with sem:
                async with session.post(host.url("/api/orchestrators/HelloOrchestrator")) as r:
                    return (await r.json())["id"]

        ids = await asyncio.gather(*(one() for _ in range(n)))
        query = host.url(f"{WEBHOOK_PATH}/instances")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            async with session.get(query, params={"runtimeStatus": "Pending,Running", "top": "1"}) as r:
                if not await r.json():
                    break
            await asyncio.sleep(0.005)
        elapsed, cpu = time.perf_counter() - began, cpu_seconds(host.process.pid) - cpu
        async with session.get(query, params={"runtimeStatus": "Completed", "top": str(n + 500)}) as r:
            done = {item["instanceId"] for item in await r.json()}
        assert set(ids) <= done, "not every orchestration completed"
        return n / elapsed, cpu / n


def sequential(host: DevhostProcess, count: int, steps: int) -> float:
    """Activities per second of `count` Sequential orchestrations of `steps` activities one after another, all
    started at once."""
    began = time.perf_counter()
    ids = [host.start_instance("Sequential", steps) for _ in range(count)]
    for instance_id in ids:
        final = host.wait(instance_id, timeout=1800)
        assert final["output"] == steps * (steps - 1), final
    return count * steps / (time.perf_counter() - began)


def sub_orchestrations(host: DevhostProcess, count: int, steps: int) -> float:
    """Activities per second of one orchestration running `count` Sequential sub-orchestrations of `steps`
    activities at once."""
    began = time.perf_counter()
    final = host.wait(host.start_instance("Sequentials", {"count": count, "steps": steps}), timeout=1800)
    assert final["output"] == count * steps * (steps - 1), final
    return count * steps / (time.perf_counter() - began)


def versus_sdk(store: Path, tmp: str, hello_instances: int) -> dict:
    """Devhost's figures as multiples of the unpatched SDK alone (benchmarks/sdk_floor.py): the SDK's main() on the
    context JSON of each episode of a Hello chain (its four) and of a sequential orchestration (every episode),
    against devhost's CPU per Hello chain and the same sequential orchestration's time end to end (the median of
    three runs)."""
    steps = int(os.environ.get("DEVHOST_BENCH_SEQUENTIAL_STEPS", "300"))
    host = DevhostProcess(BENCH_APP, store=Path(tmp) / "steps.sqlite").start()
    runs = []  # three, one after another: the median of a one-second run is what a moment's load moves least
    try:
        host.wait(host.start_instance("Sequential", 3), timeout=60)  # warm-up
        for _ in range(3):
            cpu, began = cpu_seconds(host.process.pid), time.perf_counter()
            instance_id = host.start_instance("Sequential", steps)
            assert host.wait(instance_id, timeout=1800)["runtimeStatus"] == "Completed"
            runs.append((time.perf_counter() - began, cpu_seconds(host.process.pid) - cpu))
        stored = host.status(instance_id)
    finally:
        host.close()
    end_to_end, cpu = sorted(runs)[1]
    history = read_history(Path(tmp) / "steps.sqlite", instance_id)
    contexts = episode_contexts(history, json.dumps(stored["input"]), instance_id)
    sdk = sdk_seconds(BENCH_APP / "Sequential", contexts)
    patched = sdk_seconds(BENCH_APP / "Sequential", contexts, patched=True)
    hello_id = _any_completed(store)
    chains = int(os.environ.get("DEVHOST_BENCH_THROUGHPUT_N", "2000")) // 2
    hello_cpu = _hello_cpu(tmp, chains)
    hello = episode_contexts(read_history(store, hello_id), None, hello_id)
    assert len(hello) == 4, len(hello)
    hello_sdk = sdk_seconds(ROOT / "HelloOrchestrator", hello * hello_instances, rounds=3)
    hello_patched = sdk_seconds(ROOT / "HelloOrchestrator", hello * hello_instances, rounds=3, patched=True)
    return {"sequential": {"steps": steps, "episodes": len(contexts), "end_to_end_s": round(end_to_end, 3),
                           "end_to_end_s_of_three_runs": [round(t, 3) for t, _ in runs],
                           "host_and_worker_cpu_s": round(cpu, 3), "sdk_alone_s": round(sdk["wall_s"], 3),
                           "sdk_alone_cpu_s": round(sdk["cpu_s"], 3),
                           "end_to_end_vs_sdk": round(end_to_end / sdk["wall_s"], 3),
                           "host_and_worker_cpu_vs_sdk_cpu": round(cpu / sdk["cpu_s"], 3),
                           "sdk_as_the_worker_runs_it_s": round(patched["wall_s"], 3),
                           "sdk_as_the_worker_runs_it_vs_sdk": round(patched["wall_s"] / sdk["wall_s"], 3)},
            "hello_chain": {"sdk_alone_ms_per_chain": round(hello_sdk["wall_s"] / hello_instances * 1000, 3),
                            "sdk_alone_cpu_ms_per_chain": round(hello_sdk["cpu_s"] / hello_instances * 1000, 3),
                            "devhost_cpu_ms_per_chain": round(hello_cpu * 1000, 3),
                            "devhost_cpu_vs_sdk": round(hello_cpu / (hello_sdk["cpu_s"] / hello_instances), 3),
                            "devhost_cpu_vs_sdk_wall": round(hello_cpu / (hello_sdk["wall_s"] / hello_instances), 3),
                            "sdk_as_the_worker_runs_it_cpu_ms_per_chain":
                                round(hello_patched["cpu_s"] / hello_instances * 1000, 3),
                            "sdk_as_the_worker_runs_it_vs_sdk": round(hello_patched["cpu_s"] / hello_sdk["cpu_s"], 3),
                            "devhost_how": f"host and worker CPU over {chains} Hello chains started through the "
                                           f"management API, 64 at a time, until none is Pending or Running"},
            "how": "the unpatched SDK in a process of its own: HelloOrchestrator's or Sequential's main(context_json) "
                   "on each episode's context JSON as devhost builds it from the stored history (the Hello chain's "
                   f"four episodes, best of 3 passes over {hello_instances} chains; every episode of the sequential "
                   "one), no devhost code and no I/O; sdk_as_the_worker_runs_it: the same, with the worker's "
                   "patches of the SDK (devhost.app.bindings.memoize_sdk)"}


def _hello_cpu(tmp: str, n: int, concurrency: int = 64) -> float:
    """Host and worker CPU seconds per Hello chain: n started through the management API (no HTTP function in
    between), until none is Pending or Running."""
    host = DevhostProcess(ROOT, store=Path(tmp) / "hello-cpu.sqlite").start()
    try:
        async def run() -> float:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
                room = asyncio.Semaphore(concurrency)
                url = host.url(f"{WEBHOOK_PATH}/orchestrators/HelloOrchestrator")

                async def start() -> None:
                    async with room, session.post(url) as r:
                        assert r.status == 202, await r.text()

                await asyncio.gather(*(start() for _ in range(20)))  # warm-up
                await until_none_running(session, host)
                cpu = cpu_seconds(host.process.pid)
                await asyncio.gather(*(start() for _ in range(n)))
                await until_none_running(session, host)
                return (cpu_seconds(host.process.pid) - cpu) / n

        return asyncio.run(run())
    finally:
        host.close()


def _any_completed(store: Path) -> str:
    opened = SqliteStore(store)
    try:
        (item,), _ = opened.query(Query(statuses=frozenset({RuntimeStatus.Completed}), top=1))
        return item.instance_id
    finally:
        opened.close()


def fan_out(host: DevhostProcess, n: int = 1000) -> tuple[str, float, float]:
    """One task_all over n activities: (instance id, seconds from start to Completed, seconds of its last episode:
    from the last activity's result to Completed as a tight status poll sees it)."""
    began = time.perf_counter()
    instance_id = host.start_instance("FanOut", n)
    final = host.wait(instance_id, timeout=900)
    elapsed, seen = time.perf_counter() - began, time.time()
    assert final["output"] == n * (n - 1), final
    events = host.status(instance_id, showHistory="true")["historyEvents"]
    last_result = max(timestamp(e["Timestamp"]).timestamp() for e in events if e["EventType"] == "TaskCompleted")
    return instance_id, elapsed, seen - last_result


def episodes(store: Path, instance_id: str) -> int:
    """How many episodes (OrchestratorStarted) the instance's stored history holds; the host must be stopped."""
    opened = SqliteStore(store)
    try:
        return sum(e["EventType"] == EventType.OrchestratorStarted for e in opened.get_history(instance_id))
    finally:
        opened.close()


async def entity_signals(host: DevhostProcess, n: int = 1000, concurrency: int = 64) -> float:
    url = host.url(f"{WEBHOOK_PATH}/entities/Counter/bench")
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


def _hello_last_episode() -> str:
    """The context of HelloOrchestrator's last episode: a replay of its three activities, all completed."""
    at = datetime(2024, 1, 1, tzinfo=timezone.utc)
    history = [ev.orchestrator_started(at), ev.execution_started(at, "bench", "e1", "HelloOrchestrator", None, None)]
    for task_id, city in enumerate(["Tokyo", "Seattle", "London"]):
        history += [ev.task_scheduled(at, task_id, "Hello", json.dumps(city)), ev.orchestrator_completed(at),
                    ev.orchestrator_started(at), ev.task_completed(at, task_id, json.dumps(f"Hello {city}!"))]
    return json.dumps({"history": [dict(e, IsPlayed=True) for e in history], "input": None, "instanceId": "bench",
                       "isReplaying": True, "parentInstanceId": None})


def episode_cost(n: int = 3000) -> dict:
    """Microseconds per orchestrator episode (Hello's last one, through the real SDK and converters), run inline
    and handed to a thread pool from an event loop (as --in-process runs it; the worker's pool threads run what
    they read themselves), in this process."""
    memoize_sdk()
    fn = load_functions(ROOT).functions["HelloOrchestrator"]
    invocation = Invocation(fn, ThreadPoolExecutor(max_workers=threadpool_size()))
    inputs = {fn.spec.trigger.name: string_datum(_hello_last_episode())}

    async def measure() -> tuple[float, float]:
        for _ in range(200):  # warm-up: imports, caches, the pool's threads
            invocation.call_sync(inputs)
            await invocation.call(inputs)
        inline = pooled = 0.0
        for _ in range(10):  # alternating rounds, so load from elsewhere hits both alike
            began = time.perf_counter()
            for _ in range(n // 10):
                invocation.call_sync(inputs)
            inline += time.perf_counter() - began
            began = time.perf_counter()
            for _ in range(n // 10):
                await invocation.call(inputs)
            pooled += time.perf_counter() - began
        return inline, pooled

    inline, pooled = asyncio.run(measure())
    invocation.executor.shutdown()
    return {"n": n, "inline_us": round(inline / n * 1e6, 1), "thread_pool_us": round(pooled / n * 1e6, 1),
            "thread_pool_vs_inline": round(pooled / inline, 3)}


def cpu_fan_out(tmp: str, processes: int, n: int = 8, work: int = 1_500_000) -> float:
    """Seconds for a fan-out of n CPU-bound Spin activities with FUNCTIONS_WORKER_PROCESS_COUNT=processes."""
    host = DevhostProcess(BENCH_APP, store=Path(tmp) / f"spin{processes}.sqlite",
                          env={"FUNCTIONS_WORKER_PROCESS_COUNT": str(processes)}).start()
    try:
        host.wait(host.start_instance("SpinFanOut", {"n": 2, "work": 1000}), timeout=60)  # warm-up
        began = time.perf_counter()
        final = host.wait(host.start_instance("SpinFanOut", {"n": n, "work": work}), timeout=300)
        elapsed = time.perf_counter() - began
        assert final["output"] == n, final
        return elapsed
    finally:
        host.close()


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def sections() -> set[str]:
    """What to run: DEVHOST_BENCH_ONLY names some of SECTIONS (comma-separated) while developing; all by default."""
    only = os.environ.get("DEVHOST_BENCH_ONLY", "")
    chosen = {name.strip() for name in only.split(",") if name.strip()} or set(SECTIONS)
    unknown = chosen - set(SECTIONS)
    if unknown:
        raise SystemExit(f"DEVHOST_BENCH_ONLY: unknown {sorted(unknown)}; known: {', '.join(SECTIONS)}")
    return chosen


SECTIONS = ("hello", "bodies", "fan_out", "episode_cost", "cpu_fan_out", "sequential", "big_store")


def main() -> int:
    durability = os.environ.get("DEVHOST_BENCH_DURABILITY", "normal")
    run = sections()
    results: dict = {
        "conditions": {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
            "python": sys.version.split()[0],
            "durability": {"normal": "SQLite WAL, synchronous=NORMAL: survives kill -9, not power loss",
                           "full": "SQLite WAL, synchronous=FULL: survives power loss"}[durability],
            "client": "same machine, loopback HTTP",
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        }
    }
    met: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(prefix="devhost-bench-") as tmp:
        args = ("--durability", durability)
        hello_store = Path(tmp) / "hello.sqlite"
        if run & {"hello", "sequential"}:
            hello = DevhostProcess(ROOT, store=hello_store, extra_args=args)
            results["startup_s"] = round(startup(hello), 3)
            try:
                lat = latency(hello, int(os.environ.get("DEVHOST_BENCH_LATENCY_N", "200")))
                results["latency_ms"] = {"n": len(lat), "p50": round(statistics.median(lat), 2),
                                         "p95": round(statistics.quantiles(lat, n=20)[18], 2)}
                per_s, cpu = asyncio.run(throughput(hello, int(os.environ.get("DEVHOST_BENCH_THROUGHPUT_N", "2000"))))
                results["throughput_per_s"] = round(per_s, 1)
                results["cpu_ms_per_hello_chain_through_the_starter"] = round(cpu * 1000, 3)
                results["peak_rss_mb"] = round(peak_rss_mb(hello.process.pid), 1)
            finally:
                hello.close()
            met.update({"throughput_per_s": results["throughput_per_s"] >= TARGETS["throughput_per_s"],
                        "p50_ms": results["latency_ms"]["p50"] <= TARGETS["p50_ms"],
                        "startup_s": results["startup_s"] <= TARGETS["startup_s"],
                        "peak_rss_mb": results["peak_rss_mb"] <= TARGETS["peak_rss_mb"]})
        if "bodies" in run:
            bodies = DevhostProcess(ROOT, store=Path(tmp) / "bodies.sqlite", extra_args=args).start()
            try:
                results["big_bodies"] = asyncio.run(big_bodies(bodies))
            finally:
                bodies.close()
            met["big_bodies_host_rss_ratio"] = results["big_bodies"]["host_rss_mb"]["ratio"] \
                <= TARGETS["big_bodies_host_rss_ratio"]
        if "sequential" in run:
            results["sequential"] = sequential_figures(tmp, args)
            results["versus_sdk"] = yardstick = versus_sdk(hello_store, tmp, 200)
            met.update({
                "sequential_activities_per_s": results["sequential"]["sequential_per_s"]
                >= TARGETS["sequential_activities_per_s"],
                "sub_orchestration_activities_per_s": results["sequential"]["sub_orchestrations_per_s"]
                >= TARGETS["sequential_activities_per_s"],
                "sequential_end_to_end_vs_sdk": yardstick["sequential"]["end_to_end_vs_sdk"]
                <= TARGETS["sequential_end_to_end_vs_sdk"],
                "hello_cpu_vs_sdk": yardstick["hello_chain"]["devhost_cpu_vs_sdk"] <= TARGETS["hello_cpu_vs_sdk"]})
        other_store = Path(tmp) / "bench.sqlite"
        if "fan_out" in run:
            other = DevhostProcess(BENCH_APP, store=other_store, extra_args=args).start()
            try:
                _, small, _ = fan_out(other, 1000)
                large_id, large, last_episode = fan_out(other, 10000)
                results["fan_out"] = {"1000_s": round(small, 3), "10000_s": round(large, 3),
                                      "ratio_10000_to_1000": round(large / small, 2)}
                results["entity_signals_per_s"] = round(asyncio.run(entity_signals(other)), 1)
                results["bench_app_peak_rss_mb"] = round(peak_rss_mb(other.process.pid), 1)
            finally:
                other.close()
            results["fan_out"]["10000_episodes"] = episodes(other_store, large_id)
            results["long_history"] = {"events": 2 * 10000 + 2 * results["fan_out"]["10000_episodes"] + 2,
                                       "last_episode_s": round(last_episode, 3),
                                       "how": "the 10,000-activity fan-out: from its last activity's result to "
                                              "Completed, as a status poll every 10 ms sees it"}
            met.update({
                "fan_out_ratio_10000_to_1000": results["fan_out"]["ratio_10000_to_1000"] <= TARGETS["fan_out_ratio"],
                "fan_out_10000_episodes": results["fan_out"]["10000_episodes"] <= TARGETS["fan_out_episodes"],
                "entity_signals_per_s": results["entity_signals_per_s"] >= TARGETS["entity_signals_per_s"]})
        if "episode_cost" in run:
            results["episode_cost"] = episode_cost()
            met["episode_thread_hop_us"] = results["episode_cost"]["thread_pool_us"] \
                - results["episode_cost"]["inline_us"] <= TARGETS["episode_thread_hop_us"]
        if "cpu_fan_out" in run:
            one, two = cpu_fan_out(tmp, 1), cpu_fan_out(tmp, 2)
            results["cpu_fan_out_8"] = {"one_process_s": round(one, 3), "two_processes_s": round(two, 3),
                                        "speedup": round(one / two, 2)}
            # on a machine with 2 or more cores to spare
            met["cpu_fan_out_speedup_2_processes"] = results["cpu_fan_out_8"]["speedup"] \
                >= TARGETS["cpu_fan_out_speedup_2_processes"]
        if "big_store" in run:
            n = int(os.environ.get("DEVHOST_BENCH_STORE_INSTANCES", "100000"))
            waiting = int(os.environ.get("DEVHOST_BENCH_WAITING_INSTANCES", "10000"))
            results["big_store"] = big_store(ROOT, BENCH_APP, Path(tmp), n, waiting)
            met.update({f"big_store_{k}": v for k, v in results["big_store"].pop("targets_met").items()})
    results["conditions"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = TARGETS
    results["targets_met"] = met
    print(json.dumps(results, indent=2))
    return 0


def sequential_figures(tmp: str, args: tuple[str, ...]) -> dict:
    """Long histories: `count` orchestrations of `steps` sequential activities at once, and one orchestration
    running `subs` sub-orchestrations of `steps` sequential activities (DEVHOST_BENCH_SEQUENTIAL_SHAPE:
    count,subs,steps; default 50,20,100)."""
    count, subs, steps = (int(x) for x in os.environ.get("DEVHOST_BENCH_SEQUENTIAL_SHAPE", "50,20,100").split(","))
    host = DevhostProcess(BENCH_APP, store=Path(tmp) / "sequential.sqlite", extra_args=args).start()
    try:
        host.wait(host.start_instance("Sequential", 3), timeout=60)  # warm-up
        per_s = sequential(host, count, steps)
        subs_per_s = sub_orchestrations(host, subs, steps)
    finally:
        host.close()
    return {"shape": f"{count} x {steps} sequential activities; {subs} sub-orchestrations x {steps} sequential",
            "sequential_per_s": round(per_s, 1), "sub_orchestrations_per_s": round(subs_per_s, 1)}


if __name__ == "__main__":
    sys.exit(main())

"""What the peer benchmarks share: the three-city Hello chain's names, the figures they print (one JSON line) and
how they measure them: latency one orchestration at a time, throughput with many started at once, CPU seconds of
the whole process (engine, backend and activities) per orchestration."""
from __future__ import annotations

import json
import resource
import statistics
import time
from typing import Callable

CITIES = ("Tokyo", "Seattle", "London")
EXPECTED = [f"Hello {city}!" for city in CITIES]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(name: str, one: Callable[[], list[str]], many: Callable[[int], None], latency_n: int,
            throughput_n: int, conditions: str) -> None:
    """Print {peer, p50_ms, p95_ms, per_s, cpu_s_per_orchestration, conditions} as one JSON line."""
    for _ in range(5):  # warm-up
        assert one() == EXPECTED
    times = []
    for _ in range(latency_n):
        began = time.perf_counter()
        assert one() == EXPECTED
        times.append((time.perf_counter() - began) * 1000)
    cpu, began = cpu_seconds(), time.perf_counter()
    many(throughput_n)
    elapsed, cpu = time.perf_counter() - began, cpu_seconds() - cpu
    print(json.dumps({"peer": name, "p50_ms": round(statistics.median(times), 2),
                      "p95_ms": round(statistics.quantiles(times, n=20)[18], 2),
                      "per_s": round(throughput_n / elapsed, 1),
                      "cpu_s_per_orchestration": round(cpu / throughput_n, 5), "conditions": conditions}))

"""The yardstick that does not move with the machine: the unpatched Durable SDK alone, in-process, with no devhost
code and no I/O, calling an orchestrator's main(context_json) on each episode's context JSON exactly as the extension
builds it. `make bench` prints devhost's figures as multiples of it. Run as a script, it is the child process that
times the SDK (so nothing devhost memoizes in the SDK is in it): `python -m benchmarks.sdk_floor <file>`."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from devhost.model import EventType, RuntimeStatus
from devhost.protocol import engine

# What an episode writes after the orchestrator ran (its decisions), as opposed to what it consumed.
_DECIDED = {EventType.TaskScheduled, EventType.TimerCreated, EventType.SubOrchestrationInstanceCreated,
            EventType.EventSent, EventType.ExecutionCompleted, EventType.OrchestratorCompleted}


def episode_contexts(history: list[dict[str, Any]], stored_input: str | None, instance_id: str,
                     parent_instance_id: str | None = None) -> list[str]:
    """The context JSON of every episode of a finished execution, from its stored history: each
    OrchestratorStarted begins an episode whose new events run up to the first event it decided, and everything
    before it is its old history. Built by the engine, as devhost hands it to the worker."""
    contexts = []
    for start, event in enumerate(history):
        if event["EventType"] != EventType.OrchestratorStarted:
            continue
        end = start + 1
        while end < len(history) and history[end]["EventType"] not in _DECIDED:
            end += 1
        if not any(e["EventType"] == EventType.ExecutionStarted for e in history[:end]):
            continue
        episode = engine.Episode(instance_id, "", "", RuntimeStatus.Running, history[:start],
                                 history[start:end], [], True, RuntimeStatus.Running, None)  # type: ignore
        contexts.append(episode.context_json(stored_input, parent_instance_id))
    return contexts


def sdk_seconds(function_dir: Path, contexts: list[str], rounds: int = 1, patched: bool = False) -> dict[str, float]:
    """Wall and CPU seconds the unpatched SDK takes for one pass over `contexts` (the best of `rounds` passes),
    in a fresh process of this interpreter; `patched`: the SDK as devhost's worker runs it (memoize_sdk)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"function_dir": str(function_dir), "contexts": contexts, "rounds": rounds, "patched": patched}, f)
    try:
        out = subprocess.run([sys.executable, "-m", "benchmarks.sdk_floor", f.name], capture_output=True, text=True,
                             timeout=1800, check=False, cwd=Path(__file__).resolve().parent.parent)
    finally:
        Path(f.name).unlink()
    if out.returncode != 0:
        raise RuntimeError(f"the SDK yardstick failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.splitlines()[-1])


def _time(function_dir: str, contexts: list[str], rounds: int) -> dict[str, float]:
    spec = importlib.util.spec_from_file_location("orchestrator_under_test", Path(function_dir) / "__init__.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    for context in contexts[:3]:  # warm-up: the SDK's imports
        module.main(context)
    best_wall = best_cpu = float("inf")
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        for context in contexts:
            module.main(context)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return {"wall_s": best_wall, "cpu_s": best_cpu, "episodes": len(contexts)}


if __name__ == "__main__":
    job = json.loads(Path(sys.argv[1]).read_text())
    if job.get("patched"):
        from devhost.app.bindings import memoize_sdk
        memoize_sdk()
    print(json.dumps(_time(job["function_dir"], job["contexts"], job["rounds"])))

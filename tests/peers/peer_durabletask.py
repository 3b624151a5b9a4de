"""The Hello chain on durabletask-python with its in-memory backend (a gRPC sidecar in the same process), through
its own client and worker: one orchestration of three activities."""
from __future__ import annotations

import json
import socket
import sys

from durabletask import client, task, worker
from durabletask.testing import create_test_backend

from peer_common import CITIES, EXPECTED, measure


def hello(ctx: task.ActivityContext, city: str) -> str:
    return f"Hello {city}!"


def hello_chain(ctx: task.OrchestrationContext, _: None):
    results = []
    for city in CITIES:
        results.append((yield ctx.call_activity(hello, input=city)))
    return results


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(latency_n: int, throughput_n: int) -> None:
    port = free_port()
    backend = create_test_backend(port=port)
    address = f"localhost:{port}"
    w = worker.TaskHubGrpcWorker(host_address=address)
    w.add_orchestrator(hello_chain)
    w.add_activity(hello)
    w.start()
    c = client.TaskHubGrpcClient(host_address=address)

    def one() -> list[str]:
        instance_id = c.schedule_new_orchestration(hello_chain)
        state = c.wait_for_orchestration_completion(instance_id, timeout=60)
        return json.loads(state.serialized_output)

    def many(n: int) -> None:
        ids = [c.schedule_new_orchestration(hello_chain) for _ in range(n)]
        for instance_id in ids:
            state = c.wait_for_orchestration_completion(instance_id, timeout=300)
            assert json.loads(state.serialized_output) == EXPECTED

    try:
        measure("durabletask-python (in-memory backend)", one, many, latency_n, throughput_n,
                "in-process backend over local gRPC; client schedules, then waits for completion")
    finally:
        w.stop()
        backend.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))

"""The Hello chain on DBOS with its SQLite system database, in-process: one workflow of three steps."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from dbos import DBOS, DBOSConfig

from peer_common import CITIES, EXPECTED, measure


@DBOS.step()
def hello(city: str) -> str:
    return f"Hello {city}!"


@DBOS.workflow()
def hello_chain() -> list[str]:
    return [hello(city) for city in CITIES]


def many(n: int) -> None:
    handles = [DBOS.start_workflow(hello_chain) for _ in range(n)]
    assert all(h.get_result() == EXPECTED for h in handles)


def main(latency_n: int, throughput_n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config: DBOSConfig = {"name": "hello-bench", "system_database_url": f"sqlite:///{Path(tmp) / 'dbos.sqlite'}",
                              "run_admin_server": False}
        DBOS(config=config)
        DBOS.launch()
        try:
            measure("DBOS (SQLite)", hello_chain, many, latency_n, throughput_n,
                    "in-process: workflow called directly; throughput: start_workflow for all, then get_result")
        finally:
            DBOS.destroy()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))

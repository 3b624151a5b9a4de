"""Requests waiting for an instance to finish (a start or restart with timeout and pollingInterval): they park here
and the dispatcher wakes them the moment an episode's terminal status is committed, instead of at their next poll."""
from __future__ import annotations

import asyncio


class Finished:
    """notify(instance_id) after a commit that finished the instance; wait() returns then, or after `seconds`."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Future[None]]] = {}

    async def wait(self, instance_id: str, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting = self._waiting.setdefault(instance_id, set())
        waiting.add(future)
        try:
            await asyncio.wait((future,), timeout=seconds)
        finally:
            waiting.discard(future)
            if not waiting and self._waiting.get(instance_id) is waiting:
                del self._waiting[instance_id]

    def notify(self, instance_id: str) -> None:
        for future in self._waiting.pop(instance_id, ()):
            if not future.done():
                future.set_result(None)

    def __len__(self) -> int:
        return sum(len(w) for w in self._waiting.values())

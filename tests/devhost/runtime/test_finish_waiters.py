"""Finished (devhost/runtime/finish_waiters.py): create-and-wait requests park until the dispatcher says their instance finished."""
from __future__ import annotations

import asyncio

from devhost.runtime.finish_waiters import Finished


def test_a_waiter_is_woken_by_notify_of_its_instance_only():
    async def run() -> tuple[bool, bool, int]:
        finished = Finished()
        mine = asyncio.ensure_future(finished.wait("a", 30))
        other = asyncio.ensure_future(finished.wait("b", 30))
        await asyncio.sleep(0)
        finished.notify("a")
        await asyncio.wait_for(mine, 5)
        waiting = len(finished)
        still = not other.done()
        other.cancel()
        return mine.done(), still, waiting
    assert asyncio.run(run()) == (True, True, 1)


def test_a_waiter_returns_after_its_seconds_and_leaves_nothing_behind():
    async def run() -> int:
        finished = Finished()
        await finished.wait("a", 0.01)
        finished.notify("a")  # nobody waits: nothing happens
        return len(finished)
    assert asyncio.run(run()) == 0

"""Time travel (--time-travel): durable time moves forward timer by timer, as a time-skipping test server moves it.
Each due time between now and the target is reached in turn and what it makes due runs to rest before the next."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Callable, Protocol

from devhost.clock import Clock

log = logging.getLogger("devhost")
SETTLE_POLL = 0.005


class TimeSource(Protocol):
    """Something with work due at durable times (the dispatcher's timers and delayed messages; timer triggers)."""

    def next_due(self) -> float | None:
        """The earliest durable time after now at which something becomes due; None when nothing is waiting."""

    def clock_moved(self) -> None:
        """Durable time jumped: run what is due now and re-arm the rest."""

    def idle(self) -> bool:
        """Nothing is queued or running (what is due now has run to rest)."""


@dataclass
class Travel:
    """What one advance did: the durable time reached, how many due times it stepped through, and whether the
    work they made due came to rest before the deadline."""

    now: float
    steps: int
    settled: bool


class TimeTravel:
    """Moves a clock forward through the due times of its sources. One advance at a time."""

    def __init__(self, clock: Clock, sources: list[TimeSource], moved: Callable[[], None] = lambda: None) -> None:
        self.clock = clock
        self.sources = sources
        self.moved = moved  # called after each move (the host keeps durable time in the store)
        self._lock = asyncio.Lock()

    def add_source(self, source: TimeSource) -> None:
        self.sources.append(source)

    async def advance(self, seconds: float, timeout: float = 60.0, stepwise: bool = True) -> Travel:
        """Move durable time `seconds` ahead, stepping to each due time on the way (or, not stepwise, in one jump
        as when a machine sleeps); returns once the work due up to the target has run (or the timeout passed:
        then the rest of the jump is made at once)."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        async with self._lock:
            deadline = time.monotonic() + timeout
            target = self.clock.time() + seconds
            steps = 0
            with self.clock.stopped():
                settled = await self._settle(deadline)
                while settled and stepwise:
                    due = self._next_due()
                    if due is None or due > target:
                        break
                    self._move(due)
                    steps += 1
                    settled = await self._settle(deadline)
                if not settled:
                    log.warning("devhost: time travel stopped stepping after %d due times (%.0f s timeout); "
                                "the rest of the jump is made at once", steps, timeout)
                self._move(target, exactly=seconds)
                settled = await self._settle(deadline) and settled
            return Travel(self.clock.time(), steps, settled)

    def _next_due(self) -> float | None:
        times = [t for t in (source.next_due() for source in self.sources) if t is not None]
        return min(times, default=None)

    def _move(self, when: float, exactly: float | None = None) -> None:
        if exactly is not None:  # the whole advance: by exactly the seconds asked (no float drift in the offset)
            self.clock.advance(max(0.0, exactly - self.clock.moved))
        else:
            self.clock.move_to(when)
        self.moved()
        for source in self.sources:
            source.clock_moved()

    async def _settle(self, deadline: float) -> bool:
        """Wait until every source is idle; False when the deadline passes first."""
        while not all(source.idle() for source in self.sources):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(SETTLE_POLL)
        return True

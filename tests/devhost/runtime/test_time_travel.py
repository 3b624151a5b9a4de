"""devhost.runtime.time_travel and the clock it moves: durable time steps from due time to due time up to the target, stands
still while what became due runs, never goes back, and a source that never comes to rest cannot hold it forever."""
from __future__ import annotations

import asyncio
import time

import pytest

from devhost.clock import Clock
from devhost.runtime.time_travel import TimeTravel


class Timers:
    """A time source whose work is a list of due times; firing one may schedule the next (as a timer loop does)."""

    def __init__(self, clock: Clock, due: list[float], every: float | None = None, busy: bool = False) -> None:
        self.clock, self.due, self.every, self.busy = clock, sorted(due), every, busy
        self.fired: list[float] = []

    def next_due(self) -> float | None:
        later = [t for t in self.due if t > self.clock.time()]
        return later[0] if later else None

    def clock_moved(self) -> None:
        now = self.clock.time()
        for t in [t for t in self.due if t <= now]:
            self.due.remove(t)
            self.fired.append(now)
            if self.every:
                self.due.append(now + self.every)

    def idle(self) -> bool:
        return not self.busy


def test_advance_steps_through_each_due_time_and_stops_at_the_target():
    clock = Clock()
    start = clock.time()
    loop = Timers(clock, [start + 60], every=60)
    kept: list[float] = []
    travel = TimeTravel(clock, [loop], lambda: kept.append(clock.skew))

    result = asyncio.run(travel.advance(600))

    assert loop.fired == [pytest.approx(start + 60 * k, abs=1e-6) for k in range(1, 11)]
    assert (result.steps, result.settled) == (10, True)
    assert clock.time() >= start + 600
    assert len(kept) == 11  # each step and the target are kept, for a restart
    assert loop.next_due() == pytest.approx(start + 660, abs=1e-6)


def test_the_clock_stands_still_while_stopped_and_runs_on_from_there():
    clock = Clock()
    with clock.stopped():
        frozen = clock.time()
        time.sleep(0.01)
        assert clock.time() == frozen
        clock.move_to(frozen + 100)
        clock.move_to(frozen + 50)  # never back
        assert clock.time() == frozen + 100
    assert clock.time() >= frozen + 100
    assert clock.offset == 100  # what it was moved, exactly
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_a_source_that_never_rests_makes_the_rest_of_the_jump_at_once_after_the_timeout():
    clock = Clock()
    start = clock.time()
    stuck = Timers(clock, [start + 60], every=60, busy=True)

    result = asyncio.run(TimeTravel(clock, [stuck]).advance(600, timeout=0.05))

    assert (result.steps, result.settled) == (0, False)
    assert clock.time() >= start + 600

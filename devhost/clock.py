"""Injected time and ids: the real clock by default; tests (and --time-travel) can skip ahead instead of sleeping."""
from __future__ import annotations

import contextlib
import time
import uuid
from datetime import datetime, timezone
from typing import Iterator


class Clock:
    """Wall-clock time plus an offset that only ever grows, so durable timers can be made due at once. While
    stopped (time travel stepping), durable time stands still except where it is moved."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._stopped_at: float | None = None
        self._moved = 0.0  # how far durable time was moved while stopped

    def time(self) -> float:
        return self._stopped_at if self._stopped_at is not None else time.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), timezone.utc)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        if self._stopped_at is not None:
            self._stopped_at += seconds
            self._moved += seconds
        else:
            self.offset += seconds

    def move_to(self, when: float) -> None:
        """Durable time becomes `when` if that is later than now (never earlier)."""
        self.advance(max(0.0, when - self.time()))

    @property
    def moved(self) -> float:
        """How far durable time has been moved since it was stopped."""
        return self._moved

    @property
    def skew(self) -> float:
        """How far durable time is ahead of the wall clock now (what a restart must keep)."""
        return self.time() - time.time()

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """Durable time stands still inside (moved only by advance/move_to); afterwards it runs on with the offset
        grown by exactly what it was moved, as if the time spent inside had passed too."""
        self._stopped_at, self._moved = self.time(), 0.0
        try:
            yield
        finally:
            self._stopped_at = None
            self.offset += self._moved


def new_id() -> str:
    """A new instance or execution id: a GUID in "N" format (32 hex digits), as the extension makes them."""
    return uuid.uuid4().hex

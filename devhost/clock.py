"""Injected time and ids: the real clock by default; tests (and --time-travel) can skip ahead instead of sleeping."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone


class Clock:
    """Wall-clock time plus an offset that only ever grows, so durable timers can be made due at once."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), timezone.utc)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.offset += seconds


def new_id() -> str:
    """A new instance or execution id: a GUID in "N" format (32 hex digits), as the extension makes them."""
    return uuid.uuid4().hex

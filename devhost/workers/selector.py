"""The host's event loop polls for a short while before it sleeps, while a worker call is in flight: on a virtual
machine, a halted CPU takes 100-300 µs to wake for a reply that arrives sooner than that (docs/performance.md)."""
from __future__ import annotations

import asyncio
import selectors
import sys
import time
from typing import Any, Callable, Coroutine

DEFAULT_WINDOW_US = 500


def _never() -> bool:
    return False


class PollingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """A selector whose blocking select() first polls (select with no wait) for up to `window` seconds, but only
    while `expecting()` says an answer is on its way; never longer than the timeout the loop asked for."""

    def __init__(self, window: float) -> None:
        super().__init__()
        self.window = window
        self.expecting: Callable[[], bool] = _never

    def poll(self) -> list[tuple[selectors.SelectorKey, int]]:
        return super().select(0)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if self.window <= 0 or (timeout is not None and timeout <= 0) or not self.expecting():
            return super().select(timeout)
        began = time.monotonic()
        limit = self.window if timeout is None else min(self.window, timeout)
        while True:
            ready = self.poll()
            if ready:
                return ready
            waited = time.monotonic() - began
            if waited >= limit:
                break
        return super().select(None if timeout is None else max(0.0, timeout - waited))


def selector(window_us: int) -> PollingSelector | None:
    """The selector for the host's loop; None where polling is off (0) or asyncio's loop is not a selector loop
    (Windows: its proactor loop runs the worker subprocess)."""
    if window_us <= 0 or sys.platform == "win32":
        return None
    return PollingSelector(window_us / 1_000_000)


def run(main: Coroutine[Any, Any, Any], polling: PollingSelector | None) -> Any:
    """asyncio.run(main), on a selector loop over `polling` when one is given."""
    if polling is None:
        return asyncio.run(main)
    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=lambda: asyncio.SelectorEventLoop(polling)) as runner:
            return runner.run(main)

    class Policy(asyncio.DefaultEventLoopPolicy):  # Python 3.10: no Runner
        def new_event_loop(self) -> asyncio.AbstractEventLoop:
            return asyncio.SelectorEventLoop(polling)
    asyncio.set_event_loop_policy(Policy())
    try:
        return asyncio.run(main)
    finally:
        asyncio.set_event_loop_policy(None)

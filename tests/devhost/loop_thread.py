"""An event loop on a thread of its own, for tests that drive devhost's async parts (the store's only user runs on
it) from synchronous test code."""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, Coroutine


class LoopThread:
    """Runs coroutines and plain calls on a background event loop and returns their results."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def _await(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def call(self, fn: Callable[[], Any]) -> Any:
        """fn() on the loop's thread."""
        async def run() -> Any:
            return fn()
        return self._await(run())

    def stop_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

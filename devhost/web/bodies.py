"""Request bodies within limits: the host's size limit (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, 100 MB by default, as
in the Functions host) is applied before a body is read, and the bodies in flight share a byte budget, so a burst
of big requests is served a budget at a time and the host's memory stays flat."""
from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from typing import AsyncIterator

from devhost.errors import ConfigError

LIMIT_SETTING = "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"
DEFAULT_LIMIT = 100 * 1024 * 1024  # the Functions host's default maximum request body size (bytes)
DEFAULT_BUDGET = 16 * 1024 * 1024  # bytes of request bodies devhost holds at once
BIG_BODY = 1024 * 1024  # a request with a body this big is followed by a garbage collection


def release_body(size: int | None) -> None:
    """After a request with a big body: collect now, so a body caught in a reference cycle (an exception's
    traceback holds the frames that held it) is freed at once rather than at some later collection."""
    if size is None or size >= BIG_BODY:
        gc.collect()


def body_limit(values: dict[str, str]) -> int:
    """The request body size limit in bytes: the app setting from the environment or local.settings.json Values
    (as the Functions host reads it), else 100 MB."""
    text = os.environ.get(LIMIT_SETTING) or values.get(LIMIT_SETTING)
    if not text:
        return DEFAULT_LIMIT
    if not text.strip().isdigit() or int(text) <= 0:
        raise ConfigError(f"{LIMIT_SETTING} must be a number of bytes, not {text!r}")
    return int(text)


class ByteBudget:
    """How many bytes of request bodies are held at once. A request waits for room before its body is read; one
    larger than the whole budget waits until it can run alone."""

    def __init__(self, total: int = DEFAULT_BUDGET) -> None:
        self.total = total
        self.used = 0
        self._room = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def hold(self, size: int) -> AsyncIterator[None]:
        size = min(size, self.total)
        async with self._room:
            await self._room.wait_for(lambda: self.used + size <= self.total)
            self.used += size
        try:
            yield
        finally:
            async with self._room:
                self.used -= size
                self._room.notify_all()

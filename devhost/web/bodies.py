"""Request bodies within limits: the host's size limit (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, 100 MB by default, as
in the Functions host), Kestrel's minimum body data rate (a body that stalls is answered 408), and a byte budget
that the bodies being read share, so a burst of big requests is read a budget at a time and no slow client holds
more of it than it has sent."""
from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable

from devhost.errors import ConfigError

LIMIT_SETTING = "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"
DEFAULT_LIMIT = 100 * 1024 * 1024  # the Functions host's default maximum request body size (bytes)
DEFAULT_BUDGET = 16 * 1024 * 1024  # bytes of request bodies devhost reads at once
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


@dataclass(frozen=True)
class MinDataRate:
    """Kestrel's MinRequestBodyDataRate, which the Functions host keeps at its default: after a grace period, the
    bytes received must average at least this rate over the time spent waiting for them. Time spent waiting for
    room in the budget is the host's doing and does not count, as Kestrel pauses its timing under back-pressure."""

    bytes_per_second: float = 240.0
    grace: float = 5.0

    def deadline(self, received: int) -> float:
        """Seconds of waiting on the client after which `received` bytes are too few."""
        return max(self.grace, received / self.bytes_per_second)


class BodyTooLarge(Exception):
    """A body (sent chunked) grew past the size limit: 413."""


class BodyTooSlow(Exception):
    """A body arrived slower than the minimum data rate: 408, as Kestrel answers it."""

    def __init__(self, received: int, waited: float) -> None:
        super().__init__(f"{received} bytes in {waited:.1f} s")
        self.received, self.waited = received, waited


class ClientGone(Exception):
    """The client closed its connection before its whole body arrived."""

    def __init__(self, received: int) -> None:
        super().__init__(f"after {received} bytes")
        self.received = received


class Share:
    """One body's part of the budget: the bytes of it received so far."""

    def __init__(self, budget: ByteBudget) -> None:
        self.budget = budget
        self.held = 0

    async def take(self, size: int) -> None:
        """Count `size` more bytes of this body, once there is room for them (the oldest body never waits)."""
        await self.budget._take(self, size)


class ByteBudget:
    """How many bytes of request bodies are held while they are read. A body counts the bytes it has received, not
    the bytes it announced, so a client that sends slowly holds little; a body waits for room before it reads on,
    except the oldest body being read, which never waits (so bodies that each hold part of the budget cannot wait on
    one another forever): at most the budget plus that one body is held."""

    def __init__(self, total: int = DEFAULT_BUDGET) -> None:
        self.total = total
        self.used = 0
        self._shares: list[Share] = []  # bodies being read, oldest first
        self._wakers: list[asyncio.Future[None]] = []

    @contextlib.asynccontextmanager
    async def share(self) -> AsyncIterator[Share]:
        """A share for one body while it is read; whatever it holds is released on leaving, however it leaves (read
        to the end, too slow, the client gone, the request cancelled)."""
        share = Share(self)
        self._shares.append(share)
        try:
            yield share
        finally:  # no await here: a cancelled request releases its bytes all the same
            self._shares.remove(share)
            self.used -= share.held
            share.held = 0
            self._wake()

    async def _take(self, share: Share, size: int) -> None:
        while self.used + size > self.total and self._shares[0] is not share:
            waker = asyncio.get_running_loop().create_future()
            self._wakers.append(waker)
            try:
                await waker
            finally:
                if waker in self._wakers:
                    self._wakers.remove(waker)
        self.used += size
        share.held += size

    def _wake(self) -> None:
        wakers, self._wakers = self._wakers, []
        for waker in wakers:
            if not waker.done():
                waker.set_result(None)


async def read_body(read_chunk: Callable[[], Awaitable[bytes]], limit: int, budget: ByteBudget,
                    rate: MinDataRate = MinDataRate()) -> bytes:
    """A whole request body, read chunk by chunk (`read_chunk` answers b"" at its end) within the size limit, the
    minimum data rate and the budget; the budget is released as soon as the body is read, before any handler runs.
    BodyTooLarge, BodyTooSlow or ClientGone when it cannot be read."""
    loop = asyncio.get_running_loop()
    parts: list[bytes] = []
    received, waited = 0, 0.0
    async with budget.share() as share:
        while True:
            asked = loop.time()
            try:
                chunk = await asyncio.wait_for(read_chunk(), max(0.0, rate.deadline(received) - waited))
            except asyncio.TimeoutError:
                raise BodyTooSlow(received, waited + loop.time() - asked) from None
            except ConnectionError:
                raise ClientGone(received) from None
            waited += loop.time() - asked
            if not chunk:
                return b"".join(parts)
            received += len(chunk)
            if received > limit:
                raise BodyTooLarge()
            await share.take(len(chunk))
            parts.append(chunk)

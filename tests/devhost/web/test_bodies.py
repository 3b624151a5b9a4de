"""Request body limits: the size limit setting, the minimum data rate, and the byte budget that the bodies being read
share (real asyncio streams, fed as a client would feed them)."""
from __future__ import annotations

import asyncio

import pytest

from devhost.errors import ConfigError
from devhost.web.bodies import (
    DEFAULT_LIMIT,
    LIMIT_SETTING,
    BodyTooLarge,
    BodyTooSlow,
    ByteBudget,
    ClientGone,
    MinDataRate,
    body_limit,
    read_body,
)


def test_the_limit_is_the_hosts_100_mb_unless_set(monkeypatch):
    monkeypatch.delenv(LIMIT_SETTING, raising=False)
    assert body_limit({}) == DEFAULT_LIMIT == 104857600
    assert body_limit({LIMIT_SETTING: "2048"}) == 2048
    monkeypatch.setenv(LIMIT_SETTING, "4096")
    assert body_limit({LIMIT_SETTING: "2048"}) == 4096  # the environment wins, as for every app setting


@pytest.mark.parametrize("text", ["lots", "-5", "0", "1.5"])
def test_a_limit_that_is_not_a_number_of_bytes_is_a_config_error(monkeypatch, text):
    monkeypatch.delenv(LIMIT_SETTING, raising=False)
    with pytest.raises(ConfigError, match=LIMIT_SETTING):
        body_limit({LIMIT_SETTING: text})


def reader(*chunks: bytes, eof: bool = True) -> asyncio.StreamReader:
    """A stream with these bytes in it, as a connection would have delivered them."""
    stream = asyncio.StreamReader()
    for chunk in chunks:
        stream.feed_data(chunk)
    if eof:
        stream.feed_eof()
    return stream


def chunks_of(stream: asyncio.StreamReader):
    return lambda: stream.read(16)


async def turns(n: int = 20) -> None:
    """Let every other task run n turns of the loop (no time passes)."""
    for _ in range(n):
        await asyncio.sleep(0)


FAST = MinDataRate(bytes_per_second=1000, grace=0.05)


def test_a_body_is_read_whole_and_its_budget_released_before_anyone_uses_it():
    async def scenario() -> tuple[bytes, int]:
        budget = ByteBudget(100)
        body = await read_body(chunks_of(reader(b'{"a": ', b"1}")), 1000, budget, FAST)
        return body, budget.used

    assert asyncio.run(scenario()) == (b'{"a": 1}', 0)


def test_a_body_holds_the_bytes_it_has_received_not_the_bytes_it_announced():
    """A client that announced a big body and sends it slowly holds what it sent: another body still fits."""
    async def scenario() -> tuple[bytes, int]:
        budget = ByteBudget(100)
        slow = reader(b"x" * 10, eof=False)  # announced 100, sent 10 so far
        stalled = asyncio.create_task(read_body(chunks_of(slow), 1000, budget, MinDataRate(grace=30)))
        await turns()
        other = await asyncio.wait_for(read_body(chunks_of(reader(b"y" * 80)), 1000, budget, FAST), 5)
        held = budget.used
        stalled.cancel()
        await asyncio.gather(stalled, return_exceptions=True)
        assert budget.used == 0  # a cancelled read releases what it held
        return other, held

    assert asyncio.run(scenario()) == (b"y" * 80, 10)


def test_bodies_wait_for_room_but_the_oldest_never_waits():
    """Two bodies each holding part of the budget cannot wait on one another forever: the oldest goes on past the
    budget, the younger waits until the oldest is done."""
    async def scenario() -> list[str]:
        budget, order = ByteBudget(100), []
        oldest_done = asyncio.Event()

        async def oldest() -> None:
            async with budget.share() as share:
                await share.take(60)
                await younger_waiting.wait()
                await share.take(20)  # 60 + 30 + 20 > 100, and it is the oldest: no wait
                order.append(f"oldest past the budget: {budget.used}")
                await oldest_done.wait()
            order.append("oldest done")

        async def younger() -> None:
            async with budget.share() as share:
                await share.take(30)
                taking = asyncio.create_task(share.take(20))
                await turns()
                order.append(f"younger waiting: {not taking.done()}")
                younger_waiting.set()
                await taking
                order.append(f"younger goes on: {budget.used}")

        younger_waiting = asyncio.Event()
        tasks = [asyncio.create_task(oldest()), asyncio.create_task(younger())]
        await turns()
        await younger_waiting.wait()
        await turns()
        oldest_done.set()
        await asyncio.gather(*tasks)
        assert budget.used == 0
        return order

    assert asyncio.run(scenario()) == ["younger waiting: True", "oldest past the budget: 110", "oldest done",
                                       "younger goes on: 50"]


def test_a_body_that_stalls_is_too_slow_after_the_grace_period_and_releases_its_budget():
    async def scenario() -> tuple[BodyTooSlow, int]:
        budget = ByteBudget(100)
        with pytest.raises(BodyTooSlow) as caught:
            await asyncio.wait_for(read_body(chunks_of(reader(b"x" * 5, eof=False)), 1000, budget, FAST), 5)
        return caught.value, budget.used

    slow, used = asyncio.run(scenario())
    assert used == 0 and slow.received == 5 and slow.waited >= FAST.grace


def test_a_body_that_keeps_trickling_below_the_rate_is_too_slow():
    async def scenario() -> BodyTooSlow:
        stream = reader(eof=False)

        async def trickle() -> None:  # the slow client: one byte every 10 ms, 100 bytes a second
            for _ in range(1000):
                stream.feed_data(b"x")
                await asyncio.sleep(0.01)

        client = asyncio.create_task(trickle())
        try:
            with pytest.raises(BodyTooSlow) as caught:
                await asyncio.wait_for(read_body(chunks_of(stream), 10_000, ByteBudget(100_000),
                                                 MinDataRate(bytes_per_second=1000, grace=0.1)), 5)
        finally:
            client.cancel()
        return caught.value

    slow = asyncio.run(scenario())
    assert 0 < slow.received < 1000 * slow.waited


def test_a_body_that_trickles_above_the_rate_is_read_whole():
    async def scenario() -> bytes:
        stream = reader(eof=False)

        async def trickle() -> None:  # 100 bytes every 10 ms: ten times the 1,000-byte minimum, so a loaded
            for _ in range(30):           # machine's slower sleeps (up to 100 ms each) still keep above it
                stream.feed_data(b"x" * 100)
                await asyncio.sleep(0.01)
            stream.feed_eof()

        client = asyncio.create_task(trickle())
        body = await asyncio.wait_for(read_body(chunks_of(stream), 10_000, ByteBudget(100), FAST), 5)
        await client
        return body

    assert asyncio.run(scenario()) == b"x" * 3000


def test_time_spent_waiting_for_room_is_not_held_against_the_client():
    async def scenario() -> bytes:
        budget = ByteBudget(10)
        async with budget.share() as older:
            await older.take(10)
            reading = asyncio.create_task(read_body(chunks_of(reader(b"y" * 20)), 1000, budget, FAST))
            await turns()
            await asyncio.sleep(FAST.grace * 3)  # what is under test: time passes while the body waits for room
            assert not reading.done()
        return await asyncio.wait_for(reading, 5)

    assert asyncio.run(scenario()) == b"y" * 20


def test_a_body_past_the_limit_is_too_large_and_releases_its_budget():
    async def scenario() -> int:
        budget = ByteBudget(100)
        with pytest.raises(BodyTooLarge):
            await read_body(chunks_of(reader(b"x" * 16, b"x" * 16)), 20, budget, FAST)
        return budget.used

    assert asyncio.run(scenario()) == 0


def test_a_client_that_goes_away_mid_body_is_client_gone():
    async def scenario() -> tuple[ClientGone, int]:
        budget = ByteBudget(100)
        stream = reader(b"x" * 7, eof=False)
        stream.set_exception(ConnectionResetError("Connection lost"))  # as aiohttp's connection_lost does
        with pytest.raises(ClientGone) as caught:
            await read_body(lambda: stream.read(16), 1000, budget, FAST)
        return caught.value, budget.used

    gone, used = asyncio.run(scenario())
    assert used == 0 and gone.received == 0


def test_the_rate_is_kestrels_minimum_request_body_data_rate():
    rate = MinDataRate()
    assert (rate.bytes_per_second, rate.grace) == (240, 5)
    assert rate.deadline(0) == 5 and rate.deadline(2400) == 10

"""Request body limits: the size limit setting and the byte budget that bodies in flight share."""
from __future__ import annotations

import asyncio
import platform

import pytest

from devhost.errors import ConfigError
from devhost.malloc import map_big_blocks
from devhost.web.bodies import DEFAULT_LIMIT, LIMIT_SETTING, ByteBudget, body_limit


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


def test_bodies_wait_for_room_in_the_budget():
    async def scenario() -> list[str]:
        budget, order = ByteBudget(100), []
        first_in, release_first = asyncio.Event(), asyncio.Event()

        async def first() -> None:
            async with budget.hold(70):
                order.append("first in")
                first_in.set()
                await release_first.wait()
            order.append("first out")

        async def second() -> None:
            await first_in.wait()
            async with budget.hold(50):  # 70 + 50 > 100: waits for the first
                order.append("second in")
                assert budget.used == 50

        tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
        await first_in.wait()
        for _ in range(5):
            await asyncio.sleep(0)
        assert order == ["first in"] and budget.used == 70
        release_first.set()
        await asyncio.gather(*tasks)
        assert budget.used == 0
        return order

    assert asyncio.run(scenario()) == ["first in", "first out", "second in"]


def test_a_body_bigger_than_the_whole_budget_runs_alone():
    async def scenario() -> int:
        budget = ByteBudget(100)
        async with budget.hold(10_000):
            return budget.used

    assert asyncio.run(scenario()) == 100


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_big_blocks_are_mapped_on_glibc():
    assert map_big_blocks() is True

"""devhost.workers.selector: the host loop's selector polls before it sleeps only while an answer is expected, never past the
loop's own timeout, and returns what is ready at once."""
from __future__ import annotations

import asyncio
import selectors
import socket
import sys
import threading

import pytest

from devhost.workers import selector


class Counting(selector.PollingSelector):
    """Counts the no-wait polls it makes."""

    def __init__(self, window: float) -> None:
        super().__init__(window)
        self.polls = 0

    def poll(self):
        self.polls += 1
        return super().poll()


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def test_it_does_not_poll_while_no_answer_is_expected(pair):
    sel = Counting(window=0.05)
    sel.register(pair[0], selectors.EVENT_READ)

    assert sel.select(0.01) == []

    assert sel.polls == 0
    sel.close()


def test_it_polls_while_an_answer_is_expected_and_stops_at_the_loops_timeout(pair):
    sel = Counting(window=10.0)  # a window far past the timeout: the timeout wins
    sel.expecting = lambda: True
    sel.register(pair[0], selectors.EVENT_READ)

    assert sel.select(0.002) == []

    assert sel.polls > 1
    sel.close()


def test_an_answer_that_arrives_while_it_polls_is_returned(pair):
    sel = Counting(window=5.0)
    sel.expecting = lambda: True
    key = sel.register(pair[0], selectors.EVENT_READ)
    sender = threading.Timer(0.01, pair[1].send, (b"x",))
    sender.start()

    ready = sel.select(None)  # without the answer this would poll for 5 s, then sleep for good

    sender.join()
    assert [(k.fileobj, events) for k, events in ready] == [(key.fileobj, selectors.EVENT_READ)]
    assert sel.polls > 1
    sel.close()


def test_a_zero_window_or_windows_gives_the_default_loop():
    assert selector.selector(0) is None
    made = selector.selector(300)
    if sys.platform == "win32":
        assert made is None
    else:
        assert made is not None and made.window == pytest.approx(0.0003)
        made.close()


def test_run_runs_the_coroutine_on_a_loop_over_the_selector():
    sel = selector.selector(200)
    if sel is None:
        pytest.skip("no selector loop here")

    async def main() -> object:
        return asyncio.get_running_loop()._selector  # type: ignore[attr-defined]

    assert selector.run(main(), sel) is sel

"""devhost.runtime.task_all_waits: which committed messages an orchestrator blocked on a task_all can take without a replay, and
which wake it (the last awaited completion, and any other news)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from devhost.model import Message
from devhost.protocol import history_events as ev
from devhost.runtime.task_all_waits import Waits

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)


def message(event, instance_id="i1") -> Message:
    return Message(1, instance_id, event, 0.0)


def test_completions_are_absorbed_until_the_last_awaited_one_wakes_the_instance():
    waits = Waits()
    waits.expect("i1", frozenset({0, 1, 2}))

    assert waits.absorbs(message(ev.task_completed(T0, 2, "2")))
    assert waits.absorbs(message(ev.sub_orchestration_completed(T0, 0, "0")))
    assert not waits.absorbs(message(ev.task_completed(T0, 1, "1")))
    assert "i1" not in waits
    assert not waits.absorbs(message(ev.task_completed(T0, 3, "3")))  # from now on anything wakes it


@pytest.mark.parametrize("news", [
    ev.task_failed(T0, 0, "boom", ""),
    ev.sub_orchestration_failed(T0, 0, "boom", ""),
    ev.task_completed(T0, 7, "not awaited"),
    ev.event_raised(T0, "go", None),
    ev.timer_fired(T0, 0, "2024-05-01T00:00:00.000000Z"),
    ev.execution_terminated(T0, "stop"),
    ev.execution_suspended(T0, "wait"),
], ids=["task failed", "child failed", "another task", "event", "timer", "terminate", "suspend"])
def test_any_other_news_wakes_the_instance_at_once(news):
    waits = Waits()
    waits.expect("i1", frozenset({0, 1}))

    assert not waits.absorbs(message(news))
    assert "i1" not in waits


def test_other_instances_and_nothing_awaited_wake():
    waits = Waits()
    waits.expect("i1", frozenset({0, 1}))
    waits.expect("i2", None)
    waits.expect("i3", frozenset())

    assert not waits.absorbs(message(ev.task_completed(T0, 0, "0"), "i2"))
    assert not waits.absorbs(message(ev.task_completed(T0, 0, "0"), "i3"))
    assert len(waits) == 1
    waits.forget("i1")
    assert not waits.absorbs(message(ev.task_completed(T0, 0, "0")))

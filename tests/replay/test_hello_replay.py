"""Replays HelloOrchestrator through the real SDK, episode by episode, from synthetic histories."""

import importlib
import json

import pytest
from history import chain_history, replay, replay_failure, task_failed, trigger_context

orchestrator = importlib.import_module("HelloOrchestrator")

CITIES = ["Tokyo", "Seattle", "London"]
GREETINGS = ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


def call_hello(city):
    return {"actionType": 0, "functionName": "Hello", "input": json.dumps(city)}


def history_for_episode(episode):
    """History as the host sends it for episode 1..4: one more Hello completed per episode."""
    return chain_history("HelloOrchestrator", "Hello", CITIES, GREETINGS, episode)


@pytest.mark.parametrize("episode", [1, 2, 3])
def test_each_episode_schedules_the_next_city(episode):
    state = replay(orchestrator.main, history_for_episode(episode))

    assert state == {
        "isDone": False,
        "schemaVersion": 2,
        "actions": [[call_hello(city) for city in CITIES[:episode]]],
    }


def test_last_episode_completes_with_the_three_greetings():
    state = replay(orchestrator.main, history_for_episode(4))

    assert state == {
        "isDone": True,
        "schemaVersion": 2,
        "actions": [[call_hello(city) for city in CITIES]],
        "output": GREETINGS,
    }


@pytest.mark.parametrize("episode", [1, 2, 3, 4])
def test_replaying_the_same_history_gives_identical_output(episode):
    history = history_for_episode(episode)
    context = trigger_context(history)

    assert orchestrator.main(context) == orchestrator.main(context)
    assert replay(orchestrator.main, history) == replay(orchestrator.main, history_for_episode(episode))


def test_a_failed_hello_fails_the_orchestration_with_its_reason():
    reason = "Activity function 'Hello' failed: ValueError: boom"
    history = history_for_episode(2)
    history[-1] = task_failed(0, reason, "Traceback (most recent call last): ...", at=1)

    message, state = replay_failure(orchestrator.main, history)

    assert message.startswith(reason)
    assert state["isDone"] is False
    assert state["actions"] == [[call_hello("Tokyo")]]
    assert state["error"].startswith(reason)

"""Replays the v2 quickstart's hello_orchestrator through the real SDK, episode by episode, from synthetic
histories: the same checks as the folder model's Hello, on the function DFApp's decorators built."""
import json

import pytest
from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter
from history import chain_history, replay, replay_failure, task_failed, trigger_context
from v2_app import v2_functions

FUNCTIONS = v2_functions("hello_v2")
CITIES = ["Seattle", "Tokyo", "London"]
GREETINGS = ["Hello Seattle", "Hello Tokyo", "Hello London"]


def call_hello(city):
    return {"actionType": 0, "functionName": "hello", "input": json.dumps(city)}


def history_for_episode(episode):
    """History as the host sends it for episode 1..4: one more hello completed per episode."""
    return chain_history("hello_orchestrator", "hello", CITIES, GREETINGS, episode)


def run(history):
    """Call hello_orchestrator as the Python worker does: the trigger's JSON decoded by azure.functions."""
    return FUNCTIONS["hello_orchestrator"](trigger_context(history))


def test_the_app_declares_the_quickstarts_three_functions():
    assert sorted(FUNCTIONS) == ["hello", "hello_orchestrator", "http_start"]


@pytest.mark.parametrize("episode", [1, 2, 3])
def test_each_episode_schedules_the_next_city(episode):
    assert replay(FUNCTIONS["hello_orchestrator"], history_for_episode(episode)) == {
        "isDone": False, "schemaVersion": 2, "actions": [[call_hello(city) for city in CITIES[:episode]]]}


def test_last_episode_completes_with_the_three_greetings():
    assert replay(FUNCTIONS["hello_orchestrator"], history_for_episode(4)) == {
        "isDone": True, "schemaVersion": 2, "actions": [[call_hello(city) for city in CITIES]],
        "output": GREETINGS}


@pytest.mark.parametrize("episode", [1, 4])
def test_replaying_the_same_history_gives_identical_output(episode):
    assert run(history_for_episode(episode)) == run(history_for_episode(episode))


def test_a_failed_hello_fails_the_orchestration_with_its_reason():
    reason = "Activity function 'hello' failed: ValueError: boom"
    history = history_for_episode(2)
    history[-1] = task_failed(0, reason, "Traceback (most recent call last): ...", at=1)

    message, state = replay_failure(FUNCTIONS["hello_orchestrator"], history)

    assert message.startswith(reason)
    assert state["isDone"] is False and state["actions"] == [[call_hello("Seattle")]]


def test_the_activity_greets_the_city_it_is_given():
    city = ActivityTriggerConverter.decode(meta.Datum('"Lisbon"', "json"), trigger_metadata=None)

    assert FUNCTIONS["hello"](city) == "Hello Lisbon"

"""Replays HelloOrchestrator through the real SDK, episode by episode, from synthetic histories."""

import importlib
import json

import pytest
from azure.functions import meta
from azure.functions.durable_functions import OrchestrationTriggerConverter

from history import chain_history, orchestration_context, task_failed

orchestrator = importlib.import_module("HelloOrchestrator")

CITIES = ["Tokyo", "Seattle", "London"]
GREETINGS = ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
OUT_OF_PROC_MARKER = "\n\n$OutOfProcData$:"


def call_hello(city):
    return {"actionType": 0, "functionName": "Hello", "input": json.dumps(city)}


def history_for_episode(episode):
    """History as the host sends it for episode 1..4: one more Hello completed per episode."""
    return chain_history("HelloOrchestrator", "Hello", CITIES, GREETINGS, episode)


def replay(history):
    """Call the orchestrator's entry point as the Python worker does; return the parsed state."""
    datum = meta.Datum(orchestration_context(history), "string")
    context = OrchestrationTriggerConverter.decode(datum, trigger_metadata=None)
    return json.loads(orchestrator.main(context))


@pytest.mark.parametrize("episode", [1, 2, 3])
def test_each_episode_schedules_the_next_city(episode):
    state = replay(history_for_episode(episode))

    assert state == {
        "isDone": False,
        "schemaVersion": 2,
        "actions": [[call_hello(city) for city in CITIES[:episode]]],
    }


def test_last_episode_completes_with_the_three_greetings():
    state = replay(history_for_episode(4))

    assert state == {
        "isDone": True,
        "schemaVersion": 2,
        "actions": [[call_hello(city) for city in CITIES]],
        "output": GREETINGS,
    }


@pytest.mark.parametrize("episode", [1, 2, 3, 4])
def test_replaying_the_same_history_gives_identical_output(episode):
    history = history_for_episode(episode)
    datum = meta.Datum(orchestration_context(history), "string")
    context = OrchestrationTriggerConverter.decode(datum, trigger_metadata=None)

    assert orchestrator.main(context) == orchestrator.main(context)
    assert replay(history) == replay(history_for_episode(episode))


def test_a_failed_hello_fails_the_orchestration_with_its_reason():
    reason = "Activity function 'Hello' failed: ValueError: boom"
    history = history_for_episode(2)
    history[-1] = task_failed(0, reason, "Traceback (most recent call last): ...", at=1)
    datum = meta.Datum(orchestration_context(history), "string")
    context = OrchestrationTriggerConverter.decode(datum, trigger_metadata=None)

    with pytest.raises(Exception) as raised:
        orchestrator.main(context)

    message = str(raised.value)
    assert message.startswith(reason)
    state = json.loads(message.split(OUT_OF_PROC_MARKER, 1)[1])
    assert state["isDone"] is False
    assert state["actions"] == [[call_hello("Tokyo")]]
    assert state["error"].startswith(reason)

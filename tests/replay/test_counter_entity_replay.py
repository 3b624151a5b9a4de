"""Replays the counter_entity example's orchestrator through the real SDK: SignalEntity and CallEntity actions, the
EventSent events that carry them (a call's task is then keyed by its request id), and the entity's answers as
EventRaised ResponseMessages, an error one included. Also runs the Counter entity's batch through the SDK."""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from history import event_raised, execution_started, load_function, orchestrator_completed, orchestrator_started, replay

APP = Path(__file__).resolve().parents[1] / "apps" / "counter_entity"
orchestrator = load_function(APP, "CounterOrchestrator")
counter = load_function(APP, "Counter")
SPEC = {"key": "k", "signals": [1, 2], "add": 10}
TARGET = "@counter@k"


def request_id(event_id: int) -> str:
    """The id of the request sent as `event_id`, as devhost derives it from the execution id and the event id (the
    extension draws a new GUID, recorded in the EventSent; devhost's is the same on every replay)."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"execution-1/{event_id}"))


def entity_action(kind: int, operation: str, value: Any) -> dict[str, Any]:
    return {"actionType": kind, "instanceId": TARGET, "operation": operation, "input": json.dumps(value)}


def event_sent(event_id: int, operation: str, request_id: str, value: Any, signal: bool) -> dict[str, Any]:
    """EventSent as the host records a message to an entity: the request (with its id) is the Input."""
    request = {"id": request_id, "op": operation, "signal": signal, "input": json.dumps(value)}
    return {"EventType": 14, "EventId": event_id, "IsPlayed": False, "Timestamp": "2024-05-01T12:00:00.0000000Z",
            "InstanceId": TARGET, "Name": operation, "Input": json.dumps(request)}


def response(request_id: str, result: Any, error: bool = False) -> dict[str, Any]:
    """The entity's answer to a call: EventRaised named after the request id, a ResponseMessage as its data."""
    message = {"result": json.dumps(result)}
    if error:
        message["exceptionType"] = "Error"
    return event_raised(request_id, message)


def replay_episode(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The OrchestratorState for the start of the history plus `history`."""
    start = [orchestrator_started(0), execution_started("CounterOrchestrator", SPEC)]
    return replay(orchestrator.main, start + history, input=json.dumps(SPEC))


def test_first_episode_signals_then_calls():
    state = replay_episode([])
    assert state == {"isDone": False, "schemaVersion": 2, "actions": [[
        entity_action(9, "add", 1), entity_action(9, "add", 2), entity_action(7, "get", None)]]}


def test_calls_are_answered_by_request_id_and_an_error_is_caught():
    sent = [event_sent(0, "add", request_id(0), 1, True), event_sent(1, "add", request_id(1), 2, True),
            event_sent(2, "get", request_id(2), None, False), orchestrator_completed(0), orchestrator_started(1)]
    after_get = replay_episode(sent + [response(request_id(2), 3)])
    assert after_get["isDone"] is False
    assert after_get["actions"][0][-1] == entity_action(7, "add", 10)

    answered = sent + [response(request_id(2), 3), event_sent(3, "add", request_id(3), 10, False),
                       orchestrator_completed(1), orchestrator_started(2), response(request_id(3), 13),
                       event_sent(4, "fail", request_id(4), "divide by zero", False), orchestrator_completed(2),
                       orchestrator_started(3), response(request_id(4), "Counter cannot divide by zero", error=True)]
    done = replay_episode(answered)
    assert done["isDone"] is True
    assert done["output"] == {"afterSignals": 3, "afterAdd": 13, "error": "Counter cannot divide by zero"}
    assert [a["operation"] for a in done["actions"][0]] == ["add", "add", "get", "add", "fail"]


def test_the_counter_entity_runs_a_batch():
    from azure.functions import meta

    converter = meta.get_binding_registry().get("entityTrigger")  # as the Python worker finds it

    batch = {"self": {"name": "counter", "key": "k"}, "exists": True, "state": "5",
             "batch": [{"name": "add", "input": json.dumps(json.dumps(2)), "isSignal": True},
                       {"name": "get", "input": None, "isSignal": False},
                       {"name": "fail", "input": json.dumps(json.dumps("x")), "isSignal": False},
                       {"name": "reset", "input": None, "isSignal": True}]}
    context = converter.decode(meta.Datum(json.dumps(batch), "string"), trigger_metadata=None)
    reply = json.loads(counter.main(context))
    assert (reply["entityExists"], json.loads(reply["entityState"])) == (True, 0)
    # One result per operation, in order; the SDK keeps the last set_result for an operation that sets none.
    assert [(r["isError"], json.loads(r["result"])) for r in reply["results"]] == [
        (False, 7), (False, 7), (True, "Counter cannot x"), (False, 7)]

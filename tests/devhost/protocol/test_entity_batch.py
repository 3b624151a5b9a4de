"""devhost.protocol.entity_batch: the entity batch protocol as a pure function, driven through a real SDK entity
(df.Entity.create) and the installed azure.functions entity converter, as the worker runs it."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import azure.durable_functions as df
import pytest
from orchestration_driver import Driver

from devhost.app.bindings import converter, string_datum
from devhost.model import EventType
from devhost.protocol import entity_batch as entities
from devhost.protocol import history_events as ev

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
ENTITY = "@counter@k1"


def counter(context: df.DurableEntityContext) -> None:
    value = context.get_state(lambda: 0)
    if context.operation_name == "add":
        value += context.get_input()
        context.set_state(value)
        context.set_result(value)
    elif context.operation_name == "get":
        context.set_result(value)
    elif context.operation_name == "delete":
        context.destruct_on_exit()
    else:
        raise ValueError(f"no operation {context.operation_name}")


COUNTER = df.Entity.create(counter)


def signal(message_id: int, operation: str, value=None, has_input: bool = True) -> tuple[int, dict]:
    """An inbox message as a signal leaves the HTTP API or an orchestrator's signal_entity: the input is the
    JSON text the SDK made of the value (docs/protocol.md §2.1)."""
    request = {"id": f"s{message_id}", "op": operation, "signal": True}
    if has_input:
        request["input"] = json.dumps(value)
    return message_id, ev.event_raised(NOW, operation, json.dumps(request))


def call(message_id: int, operation: str, value=None, parent: str = "orch-1") -> tuple[int, dict]:
    """An inbox message as an orchestrator's call_entity sends it: the caller is named so it can be answered."""
    request = {"id": f"c{message_id}", "op": operation, "signal": False, "input": json.dumps(value), "parent": parent,
               "parentExecution": "exec-1"}
    return message_id, ev.event_raised(NOW, operation, json.dumps(request))


def run_sdk_entity(batch: entities.EntityBatch) -> dict:
    """What the worker does: the trigger converter decodes the batch JSON, the SDK runs it, the reply is JSON."""
    context = converter("entityTrigger").decode(string_datum(batch.context_json()), trigger_metadata={})
    return json.loads(COUNTER(context))


def test_the_batch_json_has_the_shape_of_the_entity_trigger():
    batch = entities.prepare_batch(ENTITY, [signal(1, "add", 5), signal(2, "reset", has_input=False)], True, "2")

    assert json.loads(batch.context_json()) == {
        "self": {"name": "counter", "key": "k1"}, "exists": True, "state": "2",
        "batch": [{"name": "add", "input": '"5"', "isSignal": True},
                  {"name": "reset", "input": None, "isSignal": True}]}
    assert batch.message_ids == [1, 2]


def test_an_id_whose_key_holds_at_signs_keeps_them_in_the_key():
    assert entities.split_entity_id("@counter@a@b") == ("counter", "a@b")


def test_signals_change_the_state_and_answer_nobody():
    batch = entities.prepare_batch(ENTITY, [signal(1, "add", 5), signal(2, "add", 2)], False, None)

    outcome = entities.apply_reply(batch, run_sdk_entity(batch), NOW)

    assert (outcome.exists, json.loads(outcome.state)) == (True, 7)
    assert outcome.replies == () and outcome.failures == []


def test_a_call_is_answered_with_its_result_as_an_event_named_after_the_request():
    batch = entities.prepare_batch(ENTITY, [signal(1, "add", 5), call(2, "get")], True, "10")

    outcome = entities.apply_reply(batch, run_sdk_entity(batch), NOW)

    [reply] = outcome.replies
    assert reply.instance_id == "orch-1"
    assert reply.event["EventType"] == EventType.EventRaised and reply.event["Name"] == "c2"
    assert reply.event["ExecutionId"] == "exec-1"
    assert json.loads(reply.event["Input"]) == {"result": "15"}


def test_a_failed_operation_answers_its_caller_with_the_error_and_leaves_the_others_alone():
    batch = entities.prepare_batch(ENTITY, [call(1, "explode"), signal(2, "add", 1)], True, "3")

    outcome = entities.apply_reply(batch, run_sdk_entity(batch), NOW)

    [failure] = outcome.failures
    assert failure.operation == "explode" and "no operation explode" in failure.result
    [reply] = outcome.replies
    response = json.loads(reply.event["Input"])
    # what the extension sets as exceptionType for an out-of-proc entity's failed operation
    assert response["exceptionType"] == "Error" and "no operation explode" in response["result"]
    assert json.loads(outcome.state) == 4


def test_delete_leaves_no_state():
    batch = entities.prepare_batch(ENTITY, [signal(1, "delete", has_input=False)], True, "3")

    outcome = entities.apply_reply(batch, run_sdk_entity(batch), NOW)

    assert (outcome.exists, outcome.state) == (False, None)


def test_a_failed_batch_keeps_the_state_and_fails_every_operation_for_its_callers():
    batch = entities.prepare_batch(ENTITY, [signal(1, "add", 1), call(2, "get"), call(3, "get", parent="orch-2")],
                                   True, "3")

    outcome = entities.fail_batch(batch, "RuntimeError: the batch raised", NOW)

    assert (outcome.exists, outcome.state) == (True, "3")
    assert [r.operation for r in outcome.failures] == ["add", "get", "get"]
    assert [r.instance_id for r in outcome.replies] == ["orch-1", "orch-2"]
    assert {json.loads(r.event["Input"])["result"] for r in outcome.replies} == {'"RuntimeError: the batch raised"'}


def test_the_outcome_is_a_pure_function_of_its_inputs():
    batch = entities.prepare_batch(ENTITY, [call(1, "add", 2)], True, "1")
    reply = run_sdk_entity(batch)

    assert entities.apply_reply(batch, reply, NOW) == entities.apply_reply(batch, reply, NOW)


@pytest.mark.parametrize("reply", [{}, {"entityExists": True, "entityState": "1"}])
def test_a_reply_without_results_answers_nobody(reply):
    batch = entities.prepare_batch(ENTITY, [call(1, "get")], True, "1")

    outcome = entities.apply_reply(batch, reply, NOW)

    assert outcome.replies == () and outcome.results == ()


def test_the_calling_orchestrator_gets_a_failed_operation_as_an_exception_and_a_success_as_its_value():
    def calls_twice(context):
        entity = df.EntityId("Counter", "k1")
        try:
            yield context.call_entity(entity, "explode")
        except Exception as exc:
            failed = str(exc)
        return [failed, (yield context.call_entity(entity, "get"))]

    d = Driver(calls_twice, instance_id="orch-1", execution_id="exec-1")
    for message_id in (1, 2):
        (request,) = d.episode().messages
        batch = entities.prepare_batch(ENTITY, [(message_id, request.event)], True, "3")
        (reply,) = entities.apply_reply(batch, run_sdk_entity(batch), NOW).replies
        assert (reply.instance_id, reply.event["ExecutionId"]) == ("orch-1", "exec-1")
        d.send(reply.event)

    failed, value = json.loads(d.episode().output)
    assert "no operation explode" in failed and value == 3


def test_a_signal_is_never_answered_even_when_it_names_an_orchestration():
    request = {"id": "s1", "op": "add", "signal": True, "input": "1", "parent": "orch-1", "parentExecution": "exec-1"}
    batch = entities.prepare_batch(ENTITY, [(1, ev.event_raised(NOW, "op", json.dumps(request)))], True, "3")

    outcome = entities.apply_reply(batch, run_sdk_entity(batch), NOW)

    assert outcome.replies == () and json.loads(outcome.state) == 4


def test_a_message_without_a_request_is_a_nameless_operation_nobody_waits_for():
    """Whatever else reaches an entity's inbox (a terminate sent to its id) is no crash of the host."""
    batch = entities.prepare_batch(ENTITY, [(1, ev.execution_terminated(NOW, None))], True, "3")

    assert batch.requests == (entities.EntityRequest(1, None, None, None, False),)

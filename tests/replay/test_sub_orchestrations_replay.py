"""Replays the sub_orchestrations example's orchestrators through the real SDK: CallSubOrchestrator actions with
default (null) and explicit instance ids, results and failures of children, and the child's parentInstanceId."""
from __future__ import annotations

import json
from pathlib import Path

from history import (
    execution_started,
    load_function,
    orchestrator_completed,
    orchestrator_started,
    replay,
    replay_failure,
    sub_orchestration_completed,
    sub_orchestration_created,
    sub_orchestration_failed,
    task_completed,
    task_scheduled,
)

APP = Path(__file__).resolve().parents[1] / "apps" / "sub_orchestrations"
parent = load_function(APP, "Parent")
parent_with_ids = load_function(APP, "ParentWithIds")
safe_parent = load_function(APP, "SafeParent")
child = load_function(APP, "Child")
FAILURE = "Orchestrator function 'Child' failed: Activity function 'Greet' failed: ValueError: no city"


def call_child(city, instance_id=None):
    return {"actionType": 2, "functionName": "Child", "input": json.dumps(city), "instanceId": instance_id,
            "version": None}


def start(name, job):
    return [orchestrator_started(0), execution_started(name, job)]


def test_parent_calls_every_child_at_once_with_default_ids():
    cities = ["Tokyo", "Lima"]
    first = replay(parent.main, start("Parent", cities), input=json.dumps(cities))
    assert first["actions"] == [[{"actionType": 12, "compoundActions": [call_child(c) for c in cities]}]]

    history = start("Parent", cities) + [
        sub_orchestration_created(0, "Child", "exec:0", "Tokyo"),
        sub_orchestration_created(1, "Child", "exec:1", "Lima"),
        orchestrator_completed(0), orchestrator_started(1),
        sub_orchestration_completed(1, {"greeting": "Hello Lima!"}, at=1),
        sub_orchestration_completed(0, {"greeting": "Hello Tokyo!"}, at=1)]
    done = replay(parent.main, history, input=json.dumps(cities))
    assert done["isDone"] is True
    assert done["output"] == [{"greeting": "Hello Tokyo!"}, {"greeting": "Hello Lima!"}]


def test_parent_with_ids_names_each_child():
    cities = ["Oslo", "Rome"]
    history = start("ParentWithIds", cities)
    first = replay(parent_with_ids.main, history, input=json.dumps(cities), instance_id="fam")
    assert first["actions"] == [[call_child("Oslo", "fam-oslo")]]

    history += [sub_orchestration_created(0, "Child", "fam-oslo", "Oslo"), orchestrator_completed(0),
                orchestrator_started(1), sub_orchestration_completed(0, "one", at=1)]
    second = replay(parent_with_ids.main, history, input=json.dumps(cities), instance_id="fam")
    assert second["actions"] == [[call_child("Oslo", "fam-oslo"), call_child("Rome", "fam-rome")]]


def test_an_uncaught_child_failure_fails_the_parent():
    history = start("Parent", ["x"]) + [sub_orchestration_created(0, "Child", "e:0", "x"), orchestrator_completed(0),
                                         orchestrator_started(1), sub_orchestration_failed(0, FAILURE, at=1)]

    error, state = replay_failure(parent.main, history, input=json.dumps(["x"]))

    assert error.startswith(FAILURE)
    assert state["isDone"] is False


def test_a_caught_child_failure_becomes_the_result():
    history = start("SafeParent", "") + [sub_orchestration_created(0, "Child", "e:0", ""), orchestrator_completed(0),
                                          orchestrator_started(1), sub_orchestration_failed(0, FAILURE, at=1)]

    state = replay(safe_parent.main, history, input=json.dumps(""))

    assert state["isDone"] is True
    assert state["output"]["failed"].startswith(FAILURE)


def test_child_reports_its_own_and_its_parents_instance_id():
    history = start("Child", "Quito") + [task_scheduled(0, "Greet", "Quito"), orchestrator_completed(0),
                                          orchestrator_started(1), task_completed(0, "Hello Quito!", at=1)]

    state = replay(child.main, history, input=json.dumps("Quito"), instance_id="p:0", parent_instance_id="p")

    assert state["output"] == {"greeting": "Hello Quito!", "instanceId": "p:0", "parentInstanceId": "p"}


def test_string_input_stored_double_encoded_reaches_get_input_as_the_string():
    """The extension stores a child's input as the action's JSON text encoded again; the context decodes it once."""
    stored_text = json.dumps(json.dumps("Quito"))  # '"\\"Quito\\""'
    state = replay(child.main, start("Child", "Quito"), input=json.loads(stored_text))

    assert state["actions"] == [[{"actionType": 0, "functionName": "Greet", "input": json.dumps("Quito")}]]

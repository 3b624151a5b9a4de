"""The v2 (decorator) model judged by Azure's own worker logic, azure-functions-runtime: the same app indexed by the
library and by devhost's worker process, the same invocations through both; function metadata, return values,
outputs and error texts must agree (docs/workers.md, "Azure's worker as the judge")."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from devhost.protocol import history_events as ev
from devhost.protocol.engine import CONTEXT_CONSTANTS, orchestrator_input
from oracle import APPS, Devhost, Library, http_request, user_frames, why_not

pytestmark = [pytest.mark.skipif(why_not() is not None, reason=why_not() or ""),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

APP = APPS / "v2"
T0 = datetime(2024, 1, 15, 8, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def both():
    library = Library("v2", APP)
    init = library.ask("init")
    devhost = Devhost(APP)
    try:
        yield init, library, devhost
    finally:
        library.close()
        devhost.close()


def clock_free(answer):
    """An entity batch's result without its operations' wall-clock start times."""
    state = json.loads(answer["return_value"]["json"])
    for result in state["results"]:
        result.pop("startTime")
    answer["return_value"]["json"] = state
    return answer


def same(both, function, inputs, normal=lambda answer: answer):
    """Invoke `function` through both workers; the library's answer, after checking devhost's equals it (the
    stack trace compared on the app's own frames only)."""
    _, library, devhost = both
    theirs = normal(library.ask("invoke", function=function, inputs=inputs))
    ours = normal(devhost.invoke(function, inputs))
    if theirs["error"] is not None and ours["error"] is not None:
        assert user_frames(ours["error"].pop("stack_trace"), APP) == \
            user_frames(theirs["error"].pop("stack_trace"), APP)
    assert ours == theirs
    return theirs


def orchestration_context(name, input_json):
    """The context of a first episode, with the events and constants devhost's engine sends (docs/protocol.md)."""
    history = [ev.orchestrator_started(T0), ev.execution_started(T0, "abc", "e1", name, input_json)]
    return {"string": json.dumps({"history": history, "input": orchestrator_input(input_json),
                                  "instanceId": "abc", "isReplaying": False, "parentInstanceId": None,
                                  **CONTEXT_CONSTANTS})}


def test_both_index_the_same_functions_with_the_same_bindings(both):
    init, _, devhost = both
    assert init["init_error"] is None
    theirs = {m["name"]: m for m in init["metadata"]}
    ours = {s.name: s for s in devhost.worker.hello.specs}
    assert sorted(ours) == sorted(theirs) and devhost.worker.hello.skipped == []
    for name, spec in ours.items():
        assert [b.raw for b in spec.bindings] == theirs[name]["raw_bindings"], name
        assert (spec.directory, spec.script_file) == (theirs[name]["directory"], theirs[name]["script_file"])
        assert spec.entry_point == theirs[name]["entry_point"], name


def test_http_typed_request_and_response(both):
    answer = same(both, "http_echo", {"req": http_request(
        "POST", "http://localhost:7071/api/echo/7?q=1", body={"json": '{"a": 1}'}, headers={"x-test": "t"},
        query={"q": "1"}, params={"id": "7"})})
    assert answer["return_value"]["http"]["status_code"] == "201"


def test_http_untyped_returning_text(both):
    same(both, "http_text", {"req": http_request(query={"name": "Ada"}, body={"bytes": ""})})


def test_http_exception(both):
    answer = same(both, "http_boom", {"req": http_request()})
    assert answer["error"]["message"] == "ValueError: the HTTP function failed"


def test_http_with_a_durable_client_input(both):
    client = {"taskHubName": "Hub", "creationUrls": {}, "managementUrls": {
        "id": "INSTANCEID", "statusQueryGetUri": "http://localhost:7071/runtime/webhooks/durabletask/instances/"
        "INSTANCEID?taskHub=Hub&connection=Storage&code=k"}, "baseUrl": "http://localhost:7071/runtime/webhooks/"
        "durabletask", "requiredQueryStringParameters": "code=k", "rpcBaseUrl": None}
    same(both, "http_client", {"req": http_request(params={"name": "orchestrator"}),
                               "client": {"string": json.dumps(client)}})


@pytest.mark.parametrize("function, payload", [
    ("hello", '"Tokyo"'), ("untyped", '{"b": 2, "a": 1}'), ("untyped", '[1, "two", null]'),
    ("async_activity", '{"a": 1, "b": [2]}'), ("nothing", '"x"'), ("failing_activity", '"k"'),
])
def test_activities(both, function, payload):
    same(both, function, {"payload" if function != "hello" else "name": {"string": payload}})


def test_orchestrator_episode(both):
    started_with = json.dumps(json.dumps("Tokyo"))  # as the SDK's client stores an input: encoded twice
    answer = same(both, "orchestrator", {"context": orchestration_context("orchestrator", started_with)})
    state = json.loads(answer["return_value"]["json"])
    assert state["actions"][0][0]["functionName"] == "hello"


def test_orchestrator_failure(both):
    answer = same(both, "failing_orchestrator", {"context": orchestration_context("failing_orchestrator", None)})
    assert answer["error"]["message"].startswith("Exception: the orchestrator failed at once\n\n$OutOfProcData$:")


def test_entity_batch(both):
    batch = {"self": {"name": "counter", "key": "k"}, "exists": True, "state": "5",
             "batch": [{"name": "add", "input": json.dumps("3"), "isSignal": False},
                       {"name": "get", "input": None, "isSignal": False}]}  # entity_batch.context_json's shape
    answer = same(both, "counter", {"context": {"string": json.dumps(batch)}}, clock_free)
    assert answer["return_value"]["json"]["entityState"] == "8", answer


@pytest.mark.parametrize("function", ["tick", "tick_returns"])
def test_timer(both, function):
    timer = {"Schedule": {"AdjustForDST": True}, "ScheduleStatus": {
        "Last": datetime(2024, 1, 15, tzinfo=timezone.utc).isoformat(), "Next": "2024-01-15T08:35:00+00:00",
        "LastUpdated": "2024-01-15T08:30:00+00:00"}, "IsPastDue": False}
    same(both, function, {"timer": {"json": json.dumps(timer)}})

"""The folder (function.json) model judged by Azure's own worker logic, azure-functions-runtime-v1: the host's
FunctionLoadRequest for each folder, then the same invocations through the library and through devhost's worker
process; loads, return values, outputs and error texts must agree (docs/workers.md, "Azure's worker as the
judge")."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from devhost.protocol import history_events as ev
from devhost.protocol.engine import CONTEXT_CONSTANTS, orchestrator_input
from oracle import APPS, Devhost, Library, folder_metadata, http_request, user_frames, why_not

pytestmark = [pytest.mark.skipif(why_not() is not None, reason=why_not() or ""),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

APP = APPS / "v1"
T0 = datetime(2024, 1, 15, 8, 30, tzinfo=timezone.utc)
# Functions whose signature does not match their function.json: the worker refuses to load them (issue 21, item 4).
REFUSED = ("Mismatch", "WrongAnnotation")


@pytest.fixture(scope="module")
def both():
    library = Library("v1", APP)
    init = library.ask("init")
    assert init["init_error"] is None and init["use_default_metadata_indexing"] is True
    loads = library.ask("load", functions=folder_metadata(APP))["failures"]
    devhost = Devhost(APP)
    try:
        yield loads, library, devhost
    finally:
        library.close()
        devhost.close()


def same(both, function, inputs):
    _, library, devhost = both
    theirs = library.ask("invoke", function=function, inputs=inputs)
    ours = devhost.invoke(function, inputs)
    if theirs["error"] is not None and ours["error"] is not None:
        assert user_frames(ours["error"].pop("stack_trace"), APP) == \
            user_frames(theirs["error"].pop("stack_trace"), APP)
    assert ours == theirs
    return theirs


def test_both_load_the_functions_whose_signatures_match(both):
    loads, _, devhost = both
    loaded_by_library = sorted(name for name, failure in loads.items() if failure is None)
    assert loaded_by_library == sorted(set(loads) - set(REFUSED))
    assert set(loaded_by_library) <= set(devhost.worker.hello.loaded)


@pytest.mark.parametrize("function", REFUSED)
def test_both_refuse_a_function_whose_signature_does_not_match(both, function):
    loads, _, devhost = both
    message = loads[function]["message"]
    assert message.startswith(f"FunctionLoadError: cannot load the {function} function: ")
    reasons = dict(devhost.worker.hello.skipped)
    assert function in reasons and message in reasons[function]


@pytest.mark.parametrize("query", [{"name": "Ada"}, {"fail": "1"}])
def test_http(both, query):
    same(both, "HttpEcho", {"req": http_request("GET", "http://localhost:7071/api/HttpEcho", query=query)})


@pytest.mark.parametrize("function, payload", [("Hello", '"Tokyo"'), ("Untyped", '{"a": [1, 2]}'),
                                               ("Untyped", "null")])
def test_activities(both, function, payload):
    same(both, function, {"name" if function == "Hello" else "payload": {"string": payload}})


def test_orchestrator_episode(both):
    started_with = json.dumps(json.dumps("Tokyo"))
    history = [ev.orchestrator_started(T0), ev.execution_started(T0, "abc", "e1", "Orchestrator", started_with)]
    context = json.dumps({"history": history, "input": orchestrator_input(started_with), "instanceId": "abc",
                          "isReplaying": False, "parentInstanceId": None, **CONTEXT_CONSTANTS})
    answer = same(both, "Orchestrator", {"context": {"string": context}})
    assert json.loads(answer["return_value"]["json"])["actions"][0][0]["functionName"] == "Hello"


def test_timer(both):
    timer = {"Schedule": {"AdjustForDST": True}, "ScheduleStatus": None, "IsPastDue": True}
    same(both, "Tick", {"timer": {"json": json.dumps(timer)}})

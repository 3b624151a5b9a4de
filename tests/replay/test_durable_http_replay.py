"""Replays the durable_http example's orchestrator through the real SDK: the CallHttp action it emits, and the
DurableHttpResponse (or failure) of the built-in HTTP activity coming back as its result."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from history import (
    execution_started,
    load_function,
    orchestrator_completed,
    orchestrator_started,
    replay,
    task_completed,
    task_failed,
    task_scheduled,
)

APP = Path(__file__).resolve().parents[1] / "apps" / "durable_http"
call_http = load_function(APP, "CallHttp")
REQUEST = {"method": "POST", "uri": "http://127.0.0.1:9/echo", "content": {"a": 1},
           "headers": {"Content-Type": "application/json"}}


def run(events: list[dict[str, Any]]) -> dict[str, Any]:
    history = [orchestrator_started(0), execution_started("CallHttp", REQUEST)] + events
    return replay(call_http.main, history, input=json.dumps(REQUEST))


def test_the_call_is_a_call_http_action_with_json_content():
    state = run([])
    assert state == {"isDone": False, "schemaVersion": 2, "actions": [[{
        "actionType": 8, "httpRequest": {"method": "POST", "uri": "http://127.0.0.1:9/echo", "content": '{"a": 1}',
                                         "headers": {"Content-Type": "application/json"}}}]]}


def test_the_response_is_the_orchestrators_value():
    answer = {"statusCode": 201, "headers": {"Set-Cookie": ["a=1", "b=2"]}, "content": "created"}
    scheduled = [task_scheduled(0, "BuiltIn::HttpActivity", REQUEST), orchestrator_completed(0),
                 orchestrator_started(1)]
    state = run(scheduled + [task_completed(0, answer, at=1)])
    assert state["isDone"] is True and state["output"] == answer


def test_a_failed_call_raises_into_the_orchestrator():
    scheduled = [task_scheduled(0, "BuiltIn::HttpActivity", REQUEST), orchestrator_completed(0),
                 orchestrator_started(1)]
    state = run(scheduled + [task_failed(0, "Activity function 'BuiltIn::HttpActivity' failed: refused", at=1)])
    assert state["isDone"] is True
    assert state["output"]["error"].startswith("Activity function 'BuiltIn::HttpActivity' failed: refused")

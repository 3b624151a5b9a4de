"""The Durable patterns in the v2 programming model end to end (tests/apps/patterns_v2): fan-out/fan-in, a durable
entity with its HTTP API, and human interaction with a timeout, each declared on a Blueprint (one of them split
across two files) and registered into one DFApp; the orchestrator, activity and entity names come from the
triggers' own name properties, as the extension reads them."""
from __future__ import annotations

import uuid
from pathlib import Path

from devhost.testing import app_host, poll

APP = Path(__file__).resolve().parents[1] / "apps" / "patterns_v2"
host = app_host(APP)


def test_blueprint_functions_are_listed_under_their_function_names(host):
    log = host.log()

    for line in ("\tfan_out_fan_in: orchestrationTrigger", "\tsquare: activityTrigger", "\tcounter: entityTrigger",
                 "\tsend_approval_request: activityTrigger",  # declared in approval_activities.py
                 f"\tHttpStart: [POST] http://localhost:{host.port}/api/orchestrators/{{functionName}}",
                 f"\tCounterApi: [GET,POST] http://localhost:{host.port}/api/counters/{{key}}"):
        assert line in log
    assert "not loaded" not in log


def test_fan_out_fan_in_sums_the_squares_of_parallel_activities(host):
    instance_id = host.start_instance("FanOutFanIn", {"count": 100})

    final = host.wait(instance_id, timeout=30)

    assert (final["runtimeStatus"], final["output"]) == ("Completed", {"count": 100, "sum": 328350})
    completed = [e for e in host.history(instance_id) if e["EventType"] == "TaskCompleted"]
    assert len(completed) == 100 and {e["FunctionName"] for e in completed} == {"Square"}


def test_a_failing_activity_fails_the_fan_out(host):
    final = host.wait(host.start_instance("FanOutFanIn", {"numbers": [1, "two", 3]}))

    assert final["runtimeStatus"] == "Failed"
    assert "not a number: 'two'" in final["output"]


def test_the_entity_is_signalled_called_and_read_over_http(host):
    key = uuid.uuid4().hex[:12]
    final = host.wait(host.start_instance("CounterOrchestrator", {"key": key, "signals": [1, 2, 3], "add": 10}))

    assert final["output"] == {"afterSignals": 6, "afterAdd": 16, "error": "Counter cannot divide by zero"}
    assert host.http.post(host.url(f"/api/counters/{key}"), json=4, timeout=10).status_code == 202
    poll(lambda: host.http.get(host.url(f"/api/counters/{key}"), timeout=10).json() == 20, what="the signal")
    assert host.http.get(host.url(f"/api/counters/{uuid.uuid4().hex}"), timeout=10).status_code == 404


def test_an_approval_raised_in_time_wins_over_the_timeout(host):
    instance_id = host.start_instance("ApprovalWorkflow", {"item": "laptop"})
    poll(lambda: "TimerCreated" in host.event_kinds(instance_id), what="the approval's deadline timer")

    assert host.raise_event(instance_id, "Approval", {"approved": True}).status_code == 202

    final = host.wait(instance_id)
    assert final["output"] == {"ticket": "Please approve: laptop", "decision": {"approved": True}}


def test_without_an_answer_the_approval_times_out_when_time_travels_a_day(host):
    instance_id = host.start_instance("ApprovalWorkflow", {"item": "monitor"})
    poll(lambda: "TimerCreated" in host.event_kinds(instance_id), what="the approval's deadline timer")

    host.advance(86400)

    assert host.wait(instance_id)["output"] == {"ticket": "Please approve: monitor", "decision": "timed out"}

"""External events end to end against devhost running tests/apps/human_interaction: wait_for_external_event
with events raised through the webhook and through the SDK client (with its double encoding), events that
arrive before their wait, several waits, events held while suspended, and events for unknown or finished
instances rejected."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from devhost.testing import WEBHOOK, app_host, poll

APP = Path(__file__).resolve().parents[1] / "apps" / "human_interaction"
host = app_host(APP)


def wait_running(host, instance_id, after=None):
    """Wait until the instance is Running (its first episode ran) and, optionally, its history has `after`."""
    def ready():
        body = host.status(instance_id, showHistory=True)
        events = [e["EventType"] for e in body["historyEvents"]]
        return body["runtimeStatus"] == "Running" and (after is None or after in events)

    poll(ready, timeout=10, what=f"{instance_id} to be Running" + (f" with {after}" if after else ""))


def test_approval_raised_through_the_webhook(host):
    response = host.http_start("ApprovalWorkflow", {"item": "laptop"})
    assert response.status_code == 202
    instance_id = response.json()["id"]
    wait_running(host, instance_id, after="TaskCompleted")  # the request went out; it now waits

    # The URL the starter handed out, with {eventName} filled in, is what a user's approval link posts to.
    send_event = response.json()["sendEventPostUri"].replace("{eventName}", "Approval")
    answer = requests.post(send_event, json={"approved": True, "by": "boss"}, timeout=10)

    assert answer.status_code == 202
    assert answer.content == b""
    final = host.wait(instance_id)
    assert final["runtimeStatus"] == "Completed"
    assert final["output"] == {"ticket": "Please approve: laptop", "decision": {"approved": True, "by": "boss"}}
    assert host.event_kinds(instance_id) == ["ExecutionStarted", "TaskCompleted", "EventRaised", "ExecutionCompleted"]


def test_approval_raised_through_the_sdk_client_arrives_double_encoded(host):
    instance_id = host.sdk(lambda client: client.start_new("ApprovalWorkflow", None, {"item": "desk"}))
    wait_running(host, instance_id, after="TaskCompleted")

    host.sdk(lambda client: client.raise_event(instance_id, "Approval", True))
    host.wait(instance_id)
    status = host.sdk(lambda client: client.get_status(instance_id))

    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    # docs/protocol.md §2.1 (SDK issue #295): the SDK client encodes event data twice, so True arrives as 'true'.
    assert status.output == {"ticket": "Please approve: desk", "decision": "true"}


def test_events_that_arrive_before_their_wait_are_kept(host):
    instance_id = host.start_instance("Collect", {"events": ["A", "B", "C"]})
    wait_running(host, instance_id)  # waiting for A

    for name, value in [("C", "third"), ("B", "second")]:
        assert host.raise_event(instance_id, name, value).status_code == 202
    poll(lambda: host.event_kinds(instance_id).count("EventRaised") == 2, timeout=10, what="C and B recorded")
    assert host.status(instance_id)["runtimeStatus"] == "Running"
    assert host.raise_event(instance_id, "A", "first").status_code == 202

    final = host.wait(instance_id)
    assert final["output"] == ["first", "second", "third"]
    events = host.status(instance_id, showHistory=True)["historyEvents"]
    assert [e["Name"] for e in events if e["EventType"] == "EventRaised"] == ["C", "B", "A"]


def test_event_raised_right_after_the_start(host):
    instance_id = host.start_instance("Collect", {"events": ["Go"]})
    assert host.raise_event(instance_id, "Go", {"n": 1}).status_code == 202  # Pending or Running: accepted

    assert host.wait(instance_id)["output"] == [{"n": 1}]


def test_several_waits_for_the_same_event_name_take_events_in_order(host):
    instance_id = host.start_instance("Collect", {"events": ["Step", "Step", "Step"]})
    for value in (1, 2, 3):
        assert host.raise_event(instance_id, "Step", value).status_code == 202

    final = host.wait(instance_id)

    assert final["output"] == [1, 2, 3]


def test_several_waits_through_the_sdk_client(host):
    instance_id = host.sdk(lambda client: client.start_new("Collect", None, {"events": ["X", "Y"]}))

    async def raise_both(client):
        await client.raise_event(instance_id, "Y", {"y": 2})
        await client.raise_event(instance_id, "X", [1])

    host.sdk(raise_both)
    host.wait(instance_id)

    # Each value arrives as its JSON text (the SDK's double encoding), in the order the waits ask for them.
    assert host.status(instance_id)["output"] == ["[1]", '{"y": 2}']


def test_event_raised_while_suspended_is_delivered_on_resume(host):
    instance_id = host.start_instance("Collect", {"events": ["A"]})
    wait_running(host, instance_id)

    assert host.post_op(instance_id, "suspend", reason="lunch").status_code == 202
    assert host.status(instance_id)["runtimeStatus"] == "Suspended"
    assert host.raise_event(instance_id, "A", "while suspended").status_code == 202  # Suspended accepts events
    status = host.status_response(instance_id, showHistory=True)
    assert status.status_code == 202
    assert status.json()["runtimeStatus"] == "Suspended"
    assert "EventRaised" not in [e["EventType"] for e in status.json()["historyEvents"]]

    assert host.post_op(instance_id, "resume", reason="back").status_code == 202
    final = host.wait(instance_id)

    assert final["runtimeStatus"] == "Completed"
    assert final["output"] == ["while suspended"]
    history = host.event_kinds(instance_id)
    assert history.index("ExecutionSuspended") < history.index("ExecutionResumed") < history.index("EventRaised")


def test_suspend_raise_resume_through_the_sdk_client(host):
    instance_id = host.sdk(lambda client: client.start_new("Collect", None, {"events": ["A"]}))
    wait_running(host, instance_id)

    host.sdk(lambda client: client.suspend(instance_id, "wait"))
    assert host.sdk(lambda client: client.get_status(instance_id)).runtime_status == \
        OrchestrationRuntimeStatus.Suspended
    host.sdk(lambda client: client.raise_event(instance_id, "A", 42))
    assert host.status(instance_id)["runtimeStatus"] == "Suspended"
    host.sdk(lambda client: client.resume(instance_id, "go"))

    assert host.wait(instance_id)["output"] == ["42"]


def test_event_for_an_unknown_instance_is_404(host):
    response = host.raise_event("no-such-instance", "Approval", True)

    assert response.status_code == 404
    assert response.content == b""
    with pytest.raises(Exception, match="No instance with ID no-such-instance found"):
        host.sdk(lambda client: client.raise_event("no-such-instance", "Approval", True))


def test_event_for_a_finished_instance_is_410(host):
    instance_id = host.start_instance("Collect", {"events": []})
    assert host.wait(instance_id)["runtimeStatus"] == "Completed"

    response = host.raise_event(instance_id, "Approval", True)

    assert response.status_code == 410
    assert response.content == b""
    with pytest.raises(Exception, match=f"Instance with ID {instance_id} is gone"):
        host.sdk(lambda client: client.raise_event(instance_id, "Approval", True))
    assert host.event_kinds(instance_id) == ["ExecutionStarted", "ExecutionCompleted"]


def test_event_with_a_body_that_is_not_json_is_400(host):
    instance_id = host.start_instance("Collect", {"events": ["A"]})
    url = host.url(f"{WEBHOOK}/instances/{instance_id}/raiseEvent/A")

    wrong_type = requests.post(url, data="hello", headers={"Content-Type": "text/plain"}, timeout=10)
    bad_json = requests.post(url, data="{not json", headers={"Content-Type": "application/json"}, timeout=10)

    assert wrong_type.status_code == 400
    assert "Only application/json request content is supported" in wrong_type.text
    assert bad_json.status_code == 400
    assert "Invalid JSON content" in bad_json.text
    assert host.raise_event(instance_id, "A", "fine").status_code == 202
    assert host.wait(instance_id)["output"] == ["fine"]

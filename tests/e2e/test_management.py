"""Instance management end to end (tests/apps/waiter), through the SDK's DurableOrchestrationClient and over the
webhook: start with an explicit id, terminate, suspend/resume, rewind, restart, and the SDK client's wire habits
(docs/protocol.md §2)."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from devhost.testing import WEBHOOK, Client, app_host, poll

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "tests" / "apps" / "waiter"
CHECK_STATUS_KEYS = {"id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri",
                     "restartPostUri", "suspendPostUri", "resumePostUri"}


host = app_host(APP, time_travel=False)


def unique(prefix: str = "i") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def start(host: Client, name: str, body: Any = None, instance_id: str | None = None) -> str:
    """Start through the webhook (curl's way: the JSON body is the input)."""
    path = f"{WEBHOOK}/orchestrators/{name}" + (f"/{instance_id}" if instance_id else "")
    response = host.http.post(host.url(path), json=body, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def running(host: Client, body: Any = None, instance_id: str | None = None) -> str:
    """A Waiter instance, Running until it gets the event "go"."""
    instance_id = start(host, "Waiter", body, instance_id)
    host.wait(instance_id, statuses=("Running",))
    return instance_id


def sdk_error(host: Client, call: Any) -> str:
    with pytest.raises(Exception) as failure:
        host.sdk(call)
    return str(failure.value)


# -- start with an explicit instance id --------------------------------------------------------------------------
def test_start_with_an_explicit_id_and_the_extension_3s_500_while_it_runs(host):
    instance_id = unique()
    response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Waiter/{instance_id}"), json={"n": 1}, timeout=10)
    assert response.status_code == 202
    assert set(response.json()) == CHECK_STATUS_KEYS and response.json()["id"] == instance_id
    assert response.headers["Location"] == response.json()["statusQueryGetUri"]
    host.wait(instance_id, statuses=("Running",))
    again = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Waiter/{instance_id}"), json={"n": 2}, timeout=10)
    assert again.status_code == 500  # OrchestrationAlreadyExistsException, which the extension 3.x does not map
    assert again.json()["ExceptionMessage"] == "An Orchestration instance with the status Running already exists."
    assert again.json()["ExceptionType"] == "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException"
    assert host.status(instance_id)["input"] == {"n": 1}  # the running instance is untouched
    # The SDK client says so too; the app's HTTP starter (start_new with the route's id) fails.
    assert "already exists" in sdk_error(host, lambda c: c.start_new("Waiter", instance_id, None))
    assert host.http.post(host.url(f"/api/orchestrators/Waiter/{instance_id}"), timeout=10).status_code == 500


def test_a_finished_instance_id_can_be_reused(host):
    instance_id = start(host, "Quick", {"run": 1}, unique())
    assert host.wait(instance_id)["output"] == {"run": 1}
    assert start(host, "Quick", {"run": 2}, instance_id) == instance_id
    poll(lambda: host.status(instance_id)["output"] == {"run": 2}, timeout=10, what="the second run")


def test_explicit_ids_through_the_app_and_the_sdk(host):
    from_app = unique("app")
    response = host.http.post(host.url(f"/api/orchestrators/Quick/{from_app}"), json=[1], timeout=10)
    assert response.status_code == 202 and response.json()["id"] == from_app
    assert host.wait(from_app)["output"] == [1]
    from_sdk = unique("sdk")
    assert host.sdk(lambda c: c.start_new("Quick", from_sdk, [2])) == from_sdk
    assert host.wait(from_sdk)["output"] == [2]


@pytest.mark.parametrize("bad_id", ["@entity-like", "a%2Fb", "a%5Cb", "a%23b", "a%3Fb", "a%01b", "a%7Fb", "x" * 257])
def test_bad_instance_ids_are_400_and_start_nothing(host, bad_id):
    response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Quick/{bad_id}"), json={"n": 1}, timeout=10)
    assert response.status_code == 400
    assert response.json()["Message"] == "One or more of the arguments submitted is incorrect"
    assert response.json()["ExceptionType"] == "System.ArgumentException"
    listed = host.http.get(host.url(f"{WEBHOOK}/instances"), params={"top": 1000}, timeout=10).json()
    bad_starts = ("@", "a/", "a\\", "a#", "a?", "a\x01", "a\x7f", "xxx")
    assert not [i for i in listed if i["instanceId"].startswith(bad_starts)]


def test_an_id_of_256_characters_is_fine(host):
    instance_id = "y" * 255 + uuid.uuid4().hex[0]
    assert start(host, "Quick", {"long": True}, instance_id) == instance_id
    assert host.wait(instance_id)["output"] == {"long": True}


# -- the SDK client's double encoding (docs/protocol.md §2.1) --------------------------------------------------
def test_sdk_started_input_shows_as_json_text_and_the_orchestrator_gets_the_value(host):
    instance_id = host.sdk(lambda c: c.start_new("Waiter", None, {"a": 1}))
    host.wait(instance_id, statuses=("Running",))
    assert host.status(instance_id)["input"] == '{"a": 1}'  # the stored JSON text of a JSON string
    host.sdk(lambda c: c.raise_event(instance_id, "go", True))
    final = host.wait(instance_id)
    # get_input() decodes the string back; the event raised with True arrives as the string 'true' (SDK #295)
    assert final["output"] == {"input": {"a": 1}, "event": "true"}


def test_webhook_started_input_is_the_json_itself(host):
    instance_id = running(host, {"a": 1})
    assert host.status(instance_id)["input"] == {"a": 1}
    assert host.raise_event(instance_id, "go", True).status_code == 202
    assert host.wait(instance_id)["output"] == {"input": {"a": 1}, "event": True}


# -- terminate ---------------------------------------------------------------------------------------------------
def test_terminate_a_running_instance_over_http(host):
    instance_id = running(host)
    response = host.post_op(instance_id, "terminate", reason="no longer needed")
    assert response.status_code == 202 and response.content == b""
    final = host.wait(instance_id)
    assert final["runtimeStatus"] == "Terminated"
    assert final["output"] == "no longer needed"


def test_terminate_through_the_sdk_and_finished_or_unknown_instances(host):
    instance_id = running(host)
    assert host.sdk(lambda c: c.terminate(instance_id, "stop")) is None
    assert host.wait(instance_id)["output"] == "stop"
    assert host.post_op(instance_id, "terminate", reason="again").status_code == 410
    assert host.sdk(lambda c: c.terminate(instance_id, "again")) is None  # the SDK takes 410 quietly
    assert host.wait(instance_id)["output"] == "stop"
    assert host.post_op("no-such-instance", "terminate", reason="x").status_code == 404
    assert sdk_error(host, lambda c: c.terminate("no-such-instance", "x")) == \
        "No instance with ID 'no-such-instance' found."


def test_terminate_a_suspended_instance(host):
    instance_id = running(host)
    assert host.post_op(instance_id, "suspend", reason="hold").status_code == 202
    assert host.post_op(instance_id, "terminate", reason="cancel").status_code == 202
    final = host.wait(instance_id)
    assert (final["runtimeStatus"], final["output"]) == ("Terminated", "cancel")


@pytest.mark.usefixtures("local_only")
def test_terminate_a_pending_instance(devhost_factory, tmp_path):
    # One pool thread in the worker: while Blocker's code holds it, no other orchestrator code can run.
    own = devhost_factory(APP, env={"PYTHON_THREADPOOL_THREAD_COUNT": "1"}).start()
    gate = tmp_path / "gate"
    blocker = start(own, "Blocker", {"gate": str(gate)})
    try:
        poll(lambda: Path(f"{gate}.held").exists(), timeout=10, what="the app's orchestrator code to be held")
        instance_id = start(own, "Waiter", {"a": 1})  # its first episode cannot run yet
        assert own.status(instance_id)["runtimeStatus"] == "Pending"
        assert own.post_op(instance_id, "terminate", reason="too early").status_code == 202
    finally:
        gate.touch()
    final = own.wait(instance_id)
    assert (final["runtimeStatus"], final["output"]) == ("Terminated", "too early")
    assert own.wait(blocker)["output"] == "released"


@pytest.mark.usefixtures("local_only")
def test_an_async_http_function_runs_while_every_pool_thread_is_busy(devhost_factory, tmp_path):
    """As in the Python worker, `async def` functions run on the worker's event loop, which the thread pool never
    holds up: with the only pool thread held by Blocker's orchestrator code, the async HttpStart still answers."""
    own = devhost_factory(APP, env={"PYTHON_THREADPOOL_THREAD_COUNT": "1"}).start()
    gate = tmp_path / "gate"
    blocker = start(own, "Blocker", {"gate": str(gate)})
    try:
        poll(lambda: Path(f"{gate}.held").exists(), timeout=10, what="the app's orchestrator code to be held")
        response = own.http.post(own.url("/api/orchestrators/Quick"), json={"n": 1}, timeout=10)
        assert response.status_code == 202
        assert own.status(response.json()["id"])["runtimeStatus"] == "Pending"  # its code needs the thread
    finally:
        gate.touch()
    assert own.wait(blocker)["output"] == "released"
    assert own.wait(response.json()["id"])["output"] == {"n": 1}


# -- suspend and resume ------------------------------------------------------------------------------------------
def test_suspend_buffers_events_until_resume(host):
    instance_id = running(host)
    response = host.post_op(instance_id, "suspend", reason="maintenance")
    assert response.status_code == 202 and response.content == b""
    suspended = host.status_response(instance_id)
    assert suspended.status_code == 202 and suspended.json()["runtimeStatus"] == "Suspended"
    assert host.raise_event(instance_id, "go", "while suspended").status_code == 202
    # The event waits: the instance stays Suspended until it is resumed.
    assert host.status(instance_id)["runtimeStatus"] == "Suspended"
    assert host.post_op(instance_id, "resume", reason="done").status_code == 202
    assert host.wait(instance_id)["output"]["event"] == "while suspended"
    kinds = [e["EventType"] for e in host.status(instance_id, showHistory=True)["historyEvents"]]
    assert kinds == ["ExecutionStarted", "ExecutionSuspended", "ExecutionResumed", "EventRaised",
                     "ExecutionCompleted"]


def test_double_suspend_and_resume_of_a_running_instance_are_500(host):
    instance_id = running(host)
    assert host.post_op(instance_id, "suspend", reason="once").status_code == 202
    twice = host.post_op(instance_id, "suspend", reason="twice")
    assert twice.status_code == 500
    assert twice.json()["Message"] == "Something went wrong while processing your request"
    assert sdk_error(host, lambda c: c.suspend(instance_id, "thrice")) == \
        "The operation failed with an unexpected status code 500"
    assert host.status(instance_id)["runtimeStatus"] == "Suspended"
    assert host.sdk(lambda c: c.resume(instance_id, "go on")) is None
    host.wait(instance_id, statuses=("Running",))
    assert host.post_op(instance_id, "resume", reason="again").status_code == 500
    assert sdk_error(host, lambda c: c.resume(instance_id, "again")) == \
        "The operation failed with an unexpected status code 500"
    host.raise_event(instance_id, "go", 1)
    assert host.wait(instance_id)["runtimeStatus"] == "Completed"


def test_suspend_and_resume_of_finished_and_unknown_instances(host):
    instance_id = start(host, "Quick", {"n": 1})
    host.wait(instance_id)
    for operation in ("suspend", "resume"):
        assert host.post_op(instance_id, operation, reason="late").status_code == 410
        assert host.sdk(lambda c: getattr(c, operation)(instance_id, "late")) is None  # 410 is not an error
        assert host.post_op("no-such-instance", operation, reason="x").status_code == 404
        assert sdk_error(host, lambda c: getattr(c, operation)("no-such-instance", "x")) == \
            "No instance with ID 'no-such-instance' found."
    assert host.status(instance_id)["runtimeStatus"] == "Completed"


# -- rewind --------------------------------------------------------------------------------------------------------
def flaky(host: Client, tmp_path: Path) -> str:
    instance_id = start(host, "Flaky", {"marker": str(tmp_path / f"{uuid.uuid4().hex}.marker")})
    failed = host.wait(instance_id)
    assert failed["runtimeStatus"] == "Failed"
    assert failed["output"].startswith("Orchestrator function 'Flaky' failed: Activity function 'FailOnce' failed:  "
                                       "RuntimeError: the first attempt fails")
    return instance_id


def test_rewind_a_failed_instance_through_the_sdk(host, tmp_path):
    instance_id = flaky(host, tmp_path)
    assert host.sdk(lambda c: c.rewind(instance_id, "the file is there now")) is None
    final = host.wait(instance_id)
    assert final["runtimeStatus"] == "Completed"
    assert final["output"] == ["before", "recovered"]
    events = host.status(instance_id, showHistory=True)["historyEvents"]
    completed = [e["FunctionName"] for e in events if e["EventType"] == "TaskCompleted"]
    assert completed == ["Echo", "FailOnce"]  # what had succeeded is kept, not run again
    assert not [e for e in events if e["EventType"] == "TaskFailed"]


def test_rewind_over_http(host, tmp_path):
    instance_id = flaky(host, tmp_path)
    response = host.post_op(instance_id, "rewind", reason="retry")
    assert response.status_code == 202 and response.content == b""
    assert host.wait(instance_id)["output"] == ["before", "recovered"]


def test_rewind_refuses_what_did_not_fail(host):
    finished = start(host, "Quick", {"n": 1})
    host.wait(finished)
    assert host.post_op(finished, "rewind", reason="x").status_code == 410
    assert sdk_error(host, lambda c: c.rewind(finished, "x")) == \
        "The rewind operation is only supported on failed orchestration instances."
    waiting = running(host)
    refused = host.post_op(waiting, "rewind", reason="x")  # the extension client's InvalidOperationException
    assert refused.status_code == 500
    assert refused.json()["ExceptionMessage"] == "The rewind operation is only supported on failed orchestration instances."
    assert host.status(waiting)["runtimeStatus"] == "Running"
    assert host.post_op("no-such-instance", "rewind", reason="x").status_code == 404
    assert sdk_error(host, lambda c: c.rewind("no-such-instance", "x")) == "No instance with ID no-such-instance found."


# -- restart -----------------------------------------------------------------------------------------------------
def test_restart_with_a_new_id(host):
    original = start(host, "Quick", {"again": True})
    host.wait(original)
    response = host.post_op(original, "restart")
    assert response.status_code == 202
    body = response.json()
    assert set(body) == CHECK_STATUS_KEYS and body["id"] != original
    assert response.headers["Location"] == body["statusQueryGetUri"]
    assert host.wait(body["id"])["output"] == {"again": True}
    # The SDK's restart() returns what the host answered: the check-status payload of the new instance.
    restarted = host.sdk(lambda c: c.restart(original))
    assert restarted["id"] not in (original, body["id"])
    assert host.wait(restarted["id"])["output"] == {"again": True}


def test_restart_with_the_same_id(host):
    instance_id = running(host, {"keep": "me"})
    host.post_op(instance_id, "terminate", reason="stop")
    host.wait(instance_id)
    response = host.post_op(instance_id, "restart", restartWithNewInstanceId="false")
    assert response.status_code == 202 and response.json()["id"] == instance_id
    again = host.wait(instance_id, statuses=("Running",))
    assert again["input"] == {"keep": "me"} and again["output"] is None
    # while it runs, restarting it under its own id fails as starting it again does (the extension 3.x's 500)
    conflict = host.post_op(instance_id, "restart", restartWithNewInstanceId="false")
    assert conflict.status_code == 500
    assert sdk_error(host, lambda c: c.restart(instance_id, False)) == \
        "The operation failed with an unexpected status code 500"
    host.raise_event(instance_id, "go", "second life")
    assert host.wait(instance_id)["output"] == {"input": {"keep": "me"}, "event": "second life"}


def test_restart_of_an_unknown_instance_is_400(host):
    response = host.post_op("no-such-instance", "restart")
    assert response.status_code == 400
    assert response.json()["Message"] == "InstanceId does not match a valid orchestration instance."
    assert sdk_error(host, lambda c: c.restart("no-such-instance")) == \
        "The operation failed with an unexpected status code 400"


def test_restart_honours_timeout_and_polling_interval_as_start_does(host):
    """The extension's restart waits as its start does: the output when the new instance completes in time, the
    check-status 202 when it does not."""
    done = start(host, "Quick", {"n": 7})
    host.wait(done)
    waited = host.post_op(done, "restart", timeout=10, pollingInterval=0.05)
    assert (waited.status_code, waited.json()) == (200, {"n": 7})
    still = running(host, {"n": 8})
    host.post_op(still, "terminate", reason="stop")
    host.wait(still)
    accepted = host.post_op(still, "restart", timeout=0.2, pollingInterval=0.05)
    assert accepted.status_code == 202 and set(accepted.json()) == CHECK_STATUS_KEYS
    refused = host.post_op(done, "restart", timeout=1, pollingInterval=5)
    assert refused.status_code == 400 and "should be bigger than retry timeout" in refused.json()["ExceptionMessage"]


def test_start_and_wait_answers_as_soon_as_the_instance_completes_not_at_its_next_poll(host):
    """Create-and-wait is woken by the commit that finishes the instance: with a polling interval of 60 s the
    output still comes back long before the first poll would have seen it (the request gives up after 20 s)."""
    response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/Quick"), json={"n": 3},
                              params={"timeout": 120, "pollingInterval": 60}, timeout=20)
    assert (response.status_code, response.json()) == (200, {"n": 3})

"""An activity's failure end to end through the real SDK (tests/apps/retries): the TaskFailed Reason and Details
devhost records are the extension's text (docs/protocol.md §5.1), the orchestrator catches exactly
"<Reason> \\n <Details>", an uncaught one becomes the Failed instance's output, and a call to an activity the app
does not have fails the orchestration with the extension's words."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import devhost
from devhost.testing import Client, app_host

APP = Path(__file__).resolve().parents[1] / "apps" / "retries"
host = app_host(APP)


def task_failed(client: Client, instance_id: str) -> dict[str, Any]:
    """The one TaskFailed of the instance's status history (showHistory=true&showHistoryOutput=true)."""
    events = client.status(instance_id, showHistory="true", showHistoryOutput="true")["historyEvents"]
    (failed,) = [e for e in events if e["EventType"] == "TaskFailed"]
    return failed


def test_the_orchestrator_catches_the_reason_and_details_the_history_shows(host, tmp_path):
    instance_id = host.start_instance("CatchFailure", {"dir": str(tmp_path), "failures": 1})

    final = host.wait(instance_id)

    assert final["runtimeStatus"] == "Completed", final
    failed = task_failed(host, instance_id)
    assert failed["FunctionName"] == "Flaky"
    assert failed["Reason"] == "Activity function 'Flaky' failed:  ValueError: attempt 1 failed"
    assert final["output"] == {"caught": f"{failed['Reason']} \n {failed['Details']}"}
    details = json.loads(failed["Details"])
    assert (details["$type"], details["Message"]) == ("System.Exception, System.Private.CoreLib",
                                                      " ValueError: attempt 1 failed")
    rpc = details["InnerException"]
    assert rpc["Message"].startswith("Result: Failure\nException: ValueError: attempt 1 failed\nStack:   File ")
    assert 'in main\n    raise ValueError(f"attempt {attempt} failed")' in rpc["RemoteStackTrace"]
    # devhost's frames stand for the Python worker's, named from the package: no path of this machine's checkout
    assert 'File "devhost/workers/process.py"' in rpc["RemoteStackTrace"]
    assert str(Path(devhost.__file__).parent) not in rpc["Message"] + rpc["RemoteStackTrace"]
    # What users parse today (Azure/azure-functions-durable-extension#2990): the second line is the Details JSON.
    caught = final["output"]["caught"]
    assert json.loads(caught.split("\n")[1])["Message"].split(":", 1)[1].lstrip() == "attempt 1 failed"


def test_an_uncaught_failure_is_the_failed_instances_output(host, tmp_path):
    instance_id = host.start_instance("RetryActivity", {"dir": str(tmp_path), "failures": 1, "attempts": 1})

    final = host.wait(instance_id)

    assert final["runtimeStatus"] == "Failed"
    failed = task_failed(host, instance_id)
    assert final["output"] == f"Orchestrator function 'RetryActivity' failed: {failed['Reason']} \n {failed['Details']}"


def test_a_call_to_an_activity_the_app_does_not_have_fails_the_orchestration(host, tmp_path):
    instance_id = host.start_instance("CatchFailure", {"dir": str(tmp_path), "failures": 0, "activity": "Nope"})

    final = host.wait(instance_id)

    assert final["runtimeStatus"] == "Failed"
    assert final["output"] == (
        "Orchestrator function 'CatchFailure' failed: The function 'Nope' doesn't exist, is disabled, or is not an "
        "activity function. Additional info: The following are the known activity functions: 'Flaky'.")

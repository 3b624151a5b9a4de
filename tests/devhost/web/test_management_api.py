"""devhost.web.management_api: every route of the Durable management API on both base paths (webhook and RPC), as the
extension answers them, over a real store; instances are moved between states through the store, so each status code
is reached without running code."""
from __future__ import annotations

import json

import pytest
from api_server import (
    ERROR_KEYS,
    T0,
    ApiServer,
    assert_argument_error,
    assert_empty,
    assert_json_reader_error,
)

from devhost.model import RuntimeStatus
from devhost.protocol import history_events as ev
from devhost.web.server import RPC, WEBHOOK


# -- start ------------------------------------------------------------------------------------------
def test_start_answers_202_with_the_check_status_payload(api, base):
    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator", json={"a": 1})

    assert response.status_code == 202
    body = response.json()
    instance_id = body["id"]
    assert len(instance_id) == 32
    root = f"{api.base}{WEBHOOK}/instances/{instance_id}"
    common = "taskHub=TestHubName&connection=Storage"
    assert body == {"id": instance_id, "statusQueryGetUri": f"{root}?{common}",
                    "sendEventPostUri": f"{root}/raiseEvent/{{eventName}}?{common}",
                    "terminatePostUri": f"{root}/terminate?reason={{text}}&{common}",
                    "purgeHistoryDeleteUri": f"{root}?{common}", "restartPostUri": f"{root}/restart?{common}",
                    "suspendPostUri": f"{root}/suspend?reason={{text}}&{common}",
                    "resumePostUri": f"{root}/resume?reason={{text}}&{common}"}
    assert response.headers["Location"] == body["statusQueryGetUri"]
    assert response.headers["Retry-After"] == "10"
    assert api.instance(instance_id).input == '{"a": 1}'


def test_start_with_an_instance_id(api, base):
    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator/order-7")

    assert response.status_code == 202 and response.json()["id"] == "order-7"
    assert api.instance("order-7").status == RuntimeStatus.Pending


@pytest.mark.parametrize("path", ["/orchestrators/HelloOrchestrator/", "/orchestrators/HelloOrchestrator//"])
def test_a_trailing_slash_on_the_start_route_starts_with_a_new_id(api, base, path):
    """The extension's HttpApiHandler trims '/' from both ends of the path before it matches a route: the instance
    id is the route's default, empty, and StartNewAsync makes a new one."""
    response = api.request("POST", base + path)

    assert response.status_code == 202
    assert len(response.json()["id"]) == 32 and api.instance(response.json()["id"]) is not None


def test_trailing_slashes_reach_every_management_route(api, base):
    api.start("i", '"x"')

    assert api.request("POST", f"{base}/orchestrators/HelloOrchestrator/j/").json()["id"] == "j"
    assert api.request("GET", f"{base}/instances/i/").status_code == 202
    assert api.request("POST", f"{base}/instances/i/raiseEvent/go/", json=1).status_code == 202
    assert api.request("POST", f"{base}/instances/i/terminate/").status_code == 202


@pytest.mark.parametrize("method", ["POST", "GET", "DELETE", "PUT"])
def test_makeprimary_answers_an_empty_200_for_any_method(api, base, method):
    """HttpApiHandler's makeprimary route (any method) calls MakeCurrentAppPrimaryAsync: with the app lease, on by
    default, the Azure Storage provider takes the task hub's lease and the answer has no body."""
    response = api.request(method, f"{base}/makeprimary")

    assert (response.status_code, response.content) == (200, b"")
    assert api.request(method, f"{base}/makeprimary/").status_code == 200


def test_makeprimary_without_the_app_lease_is_the_clients_500(tmp_path):
    server = ApiServer(tmp_path / "store.sqlite", durable_options={"use_app_lease": False})
    try:
        response = server.request("POST", f"{WEBHOOK}/makeprimary")
    finally:
        server.close()

    assert response.status_code == 500
    body = response.json()
    assert (body["ExceptionType"], body["ExceptionMessage"]) == (
        "System.InvalidOperationException", "Cannot make current app primary. This app is not using the AppLease "
                                            "feature.")


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_an_entity_operation_without_a_name_is_400(api, base, method):
    """The extension's entity route takes the name as optional; EntityId refuses none (ArgumentNullException,
    answered with its message alone)."""
    for path in ("/entities", "/entities/"):
        response = api.request(method, base + path)

        assert response.status_code == 400
        assert response.json() == {"Message": "Invalid entity id: entity name must not be a null or empty string. "
                                              "(Parameter 'entityName')"}


def test_the_sdk_clients_double_encoded_input_is_stored_as_sent(api, base):
    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator/sdk",
                           data=json.dumps(json.dumps({"a": 1})), headers={"Content-Type": "application/json"})

    assert response.status_code == 202
    assert api.instance("sdk").input == '"{\\"a\\": 1}"'
    assert api.request("GET", f"{base}/instances/sdk").json()["input"] == '{"a": 1}'


def test_an_empty_octet_stream_body_is_no_input(api, base):
    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator/empty", data=b"",
                           headers={"Content-Type": "application/octet-stream"})

    assert response.status_code == 202 and api.instance("empty").input is None


def test_start_of_an_unknown_orchestrator_is_400_naming_the_known_ones(api, base):
    response = api.request("POST", f"{base}/orchestrators/Nope")

    assert_argument_error(response, "The function 'Nope' doesn't exist, is disabled, or is not an orchestrator "
                                    "function. Additional info: The following are the known orchestrator "
                                    "functions: 'HelloOrchestrator', 'Other'.")


@pytest.mark.parametrize("instance_id", ["@x", "a%2Fb", "a%23b", "a%3Fb", "a%5Cb", "a%01b", "x" * 257])
def test_start_with_an_invalid_instance_id_is_400(api, instance_id):
    response = api.request("POST", f"{RPC}/orchestrators/HelloOrchestrator/{instance_id}")

    assert_argument_error(response, "")
    assert "instance id" in response.json()["ExceptionMessage"].lower()
    assert api.request("GET", f"{RPC}/instances/").json() == []  # nothing was created


def test_start_over_a_running_instance_is_the_extension_3s_500(api, base):
    api.start("busy")

    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator/busy")

    assert response.status_code == 500
    body = response.json()
    assert list(body) == ERROR_KEYS and body["Message"] == "Something went wrong while processing your request"
    assert body["ExceptionType"] == "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException"
    assert body["ExceptionMessage"] == "An Orchestration instance with the status Pending already exists."


def test_start_with_a_body_that_is_not_json_is_400(api, base):
    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator", data=b"{not json",
                           headers={"Content-Type": "application/json"})

    assert_json_reader_error(response)


def test_start_and_wait_returns_the_output_when_the_instance_finishes_in_time(api, base):
    api.complete_on_start = '["Hello Tokyo!"]'

    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator/w?timeout=5&pollingInterval=1")

    assert response.status_code == 200 and response.json() == ["Hello Tokyo!"]


def test_start_and_wait_answers_202_when_the_timeout_passes(api, base):
    response = api.request("POST", f"{base}/orchestrators/HelloOrchestrator/w?timeout=0")

    assert response.status_code == 202 and response.json()["id"] == "w"


@pytest.mark.parametrize("query", ["timeout=soon", "timeout=5&pollingInterval=often"])
def test_start_with_a_timeout_double_try_parse_refuses_does_not_wait(api, query):
    """The extension reads timeout and pollingInterval with double.TryParse: a value that fails is none, and without
    both there is no wait: the check-status 202 (this was a 400 before; the extension starts and answers 202)."""
    response = api.request("POST", f"{RPC}/orchestrators/HelloOrchestrator/t?{query}")

    assert response.status_code == 202 and response.json()["id"] == "t"


@pytest.mark.parametrize("query", ["timeout=NaN&pollingInterval=1", "timeout=2&pollingInterval=5"])
def test_a_wait_the_extension_refuses_is_400_after_the_instance_started(api, query):
    """TimeSpan.FromSeconds refuses NaN, and a timeout shorter than the interval is an ArgumentException: the
    extension reads both after StartNewAsync, so the 400 is about an instance that was started."""
    response = api.request("POST", f"{RPC}/orchestrators/HelloOrchestrator/n?{query}")

    assert response.status_code == 400
    assert api.instance("n") is not None


def test_the_version_parameter_of_a_start_is_ignored(api):
    """The extension's DurableClient starts every instance with its DefaultVersion, the empty string."""
    api.request("POST", f"{RPC}/orchestrators/HelloOrchestrator/v?version=2.0")

    history = api.call(lambda: api.store.get_history("v")) + api.inbox("v")
    (started,) = [e for e in history if e["EventType"] == 0]
    assert started["Version"] == ""


# -- status -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["Pending", "Running", "Suspended", "ContinuedAsNew"])
def test_status_of_an_unfinished_instance_is_202_with_location(api, base, status):
    api.start("i", '"x"')
    if status != "Pending":
        api.set_status("i", RuntimeStatus(status))

    response = api.request("GET", f"{base}/instances/i?taskHub=TestHubName&connection=Storage")

    assert response.status_code == 202
    assert response.headers["Location"] == f"{api.base}{base}/instances/i?taskHub=TestHubName&connection=Storage"
    assert response.headers["Retry-After"] == "5"
    assert response.json()["runtimeStatus"] == status


def test_the_task_hub_parameter_is_case_insensitive_and_other_hubs_have_nothing(api, base):
    api.start("i", '"x"')

    assert api.request("GET", f"{base}/instances/i?taskHub=testhubname").status_code == 202
    assert api.request("GET", f"{base}/instances/i?taskHub=OtherHub").status_code == 404
    assert api.request("GET", f"{base}/instances/i?taskHub=OtherHub").content == b""
    assert api.request("POST", f"{base}/instances/i/terminate?reason=x&taskHub=OtherHub").status_code == 404
    refused = api.request("POST", f"{base}/orchestrators/HelloOrchestrator?taskHub=OtherHub")
    assert refused.status_code == 400
    assert "'OtherHub' is not served by this host" in refused.json()["ExceptionMessage"]
    assert api.request("GET", f"{base}/instances/i").json()["runtimeStatus"] == "Pending"  # nothing changed


@pytest.mark.parametrize("status", ["Completed", "Terminated", "Failed"])
def test_status_of_a_finished_instance_is_200(api, base, status):
    api.start("i", '"x"')
    api.set_status("i", RuntimeStatus(status), '"out"')

    response = api.request("GET", f"{base}/instances/i")

    assert response.status_code == 200 and "Location" not in response.headers
    body = response.json()
    assert list(body) == ["name", "instanceId", "runtimeStatus", "input", "customStatus", "output", "createdTime",
                          "lastUpdatedTime"]
    assert (body["runtimeStatus"], body["input"], body["output"]) == (status, "x", "out")
    assert body["createdTime"] == "2024-05-01T12:00:00Z"


@pytest.mark.parametrize("flag", ["true", "True", "TRUE"])
def test_a_failed_instance_is_500_when_asked(api, flag):
    api.start("i")
    api.set_status("i", RuntimeStatus.Failed, '"Orchestrator function \'HelloOrchestrator\' failed: x"')

    response = api.request("GET", f"{WEBHOOK}/instances/i?returnInternalServerErrorOnFailure={flag}")

    assert response.status_code == 500 and response.json()["runtimeStatus"] == "Failed"


def test_status_of_an_unknown_instance_is_404_with_an_empty_body(api, base):
    assert_empty(api.request("GET", f"{base}/instances/missing"), 404)


@pytest.mark.parametrize("flag", ["true", "True", "TRUE"])
def test_status_flags_are_case_insensitive(api, base, flag):
    api.start("i", '"x"')
    started = api.inbox("i")[0]
    api.set_status("i", RuntimeStatus.Completed, '"out"', history=[
        ev.orchestrator_started(T0), started, ev.execution_completed(T0, "Completed", '"out"')])

    body = api.request("GET", f"{base}/instances/i?showHistory={flag}&ShowHistoryOutput={flag}").json()

    assert [e["EventType"] for e in body["historyEvents"]] == ["ExecutionStarted", "ExecutionCompleted"]
    assert body["historyEvents"][1]["Result"] == "out"


def test_history_output_and_input_are_left_out_unless_asked(api):
    api.start("i", '"x"')
    started = api.inbox("i")[0]
    api.set_status("i", RuntimeStatus.Completed, '"out"', history=[
        ev.orchestrator_started(T0), started, ev.execution_completed(T0, "Completed", '"out"')])

    body = api.request("GET", f"{WEBHOOK}/instances/i?showHistory=true&showInput=false").json()

    assert body["input"] is None
    assert all("Result" not in e and "Input" not in e for e in body["historyEvents"])
    assert "historyEvents" not in api.request("GET", f"{WEBHOOK}/instances/i?showHistory=false").json()


# -- query ------------------------------------------------------------------------------------------
@pytest.fixture
def three(api):
    for name in ("q1", "q2", "q3"):
        api.start(name, '"in"')
    api.set_status("q1", RuntimeStatus.Completed, '"done"')
    return api


@pytest.mark.parametrize("path", ["/instances", "/instances/"])
def test_query_lists_instances(three, base, path):
    response = three.request("GET", base + path)

    assert response.status_code == 200
    assert [s["instanceId"] for s in response.json()] == ["q1", "q2", "q3"]
    assert response.json()[0]["input"] == "in"  # showInput defaults to true, as in the extension
    assert three.request("GET", base + path + "?showInput=false").json()[0]["input"] is None
    assert response.headers["x-ms-continuation-token"] == ""  # on the last page too, empty


def test_query_filters(three, base):
    by_status = three.request("GET", f"{base}/instances/?runtimeStatus=Pending,running").json()
    by_prefix = three.request("GET", f"{base}/instances/?instanceIdPrefix=q3&showInput=True").json()
    by_time = three.request("GET", f"{base}/instances/?createdTimeFrom=2024-05-01T12:00:01.000000Z").json()

    assert [s["instanceId"] for s in by_status] == ["q2", "q3"]
    assert [(s["instanceId"], s["input"]) for s in by_prefix] == [("q3", "in")]
    assert by_time == []


def test_query_pages_with_the_continuation_token_header(three, base):
    first = three.request("GET", f"{base}/instances/?top=2")
    token = first.headers["x-ms-continuation-token"]
    second = three.request("GET", f"{base}/instances/?top=2", headers={"x-ms-continuation-token": token})

    assert [s["instanceId"] for s in first.json()] == ["q1", "q2"]
    assert [s["instanceId"] for s in second.json()] == ["q3"]
    assert second.headers["x-ms-continuation-token"] == ""  # on the last page too, empty


@pytest.mark.parametrize("query", ["runtimeStatus=Sleeping", "runtimeStatus=completed", "top=many",
                                   "top=99999999999", "createdTimeFrom=yesterday", "createdTimeTo=soon",
                                   "showInput=yes"])
def test_query_values_the_extension_cannot_parse_are_ignored(three, query):
    """HttpApiHandler reads each with TryParse (Enum, int, DateTime, bool) and leaves a value that fails out of the
    condition: the answer is the unfiltered listing (these were 400s before; the extension answers 200)."""
    response = three.request("GET", f"{RPC}/instances/?{query}")

    assert response.status_code == 200, response.text
    assert [s["instanceId"] for s in response.json()] == ["q1", "q2", "q3"]
    assert response.json()[0]["input"] == "in"


@pytest.mark.parametrize("query", ["top=some", "lastOperationTimeFrom=soon", "lastOperationTimeTo=x"])
def test_entity_listing_values_the_extension_cannot_parse_are_ignored(three, query):
    assert three.request("GET", f"{RPC}/entities/Counter?{query}").status_code == 200


@pytest.mark.parametrize(("query", "listed"), [
    ("runtimeStatus=Completed&runtimeStatus=Pending", ["q1", "q2"]),  # every value of the parameter
    ("runtimeStatus=Completed&RUNTIMESTATUS=Running", ["q1", "q3"]),  # its name without case, as NameValueCollection
    ("runtimeStatus=Completed,completed,Nope", ["q1"]),  # a part Enum.TryParse refuses is left out, case counts
    ("runtimeStatus=1", ["q1"]),  # Enum.TryParse reads the number of a status (Completed = 1)
    ("runtimeStatus= Running , 6", ["q2", "q3"]),  # blanks around a part; 6 is Pending
])
def test_the_runtime_status_filter_is_read_as_enum_try_parse_reads_it(three, query, listed):
    three.set_status("q3", RuntimeStatus.Running)

    response = three.request("GET", f"{RPC}/instances/?{query}")

    assert [s["instanceId"] for s in response.json()] == listed


@pytest.mark.parametrize("path", ["instances/", "entities"])
@pytest.mark.parametrize("token", ["nonsense", "%%%"])
def test_query_and_entity_listing_with_a_bad_continuation_token_are_400(three, path, token):
    response = three.request("GET", f"{RPC}/{path}", headers={"x-ms-continuation-token": token})

    assert_argument_error(response, "The continuation token is not one this host gave out.")


# -- purge ------------------------------------------------------------------------------------------
def test_purge_one_answers_the_count(api, base):
    api.start("p")
    api.set_status("p", RuntimeStatus.Completed)

    response = api.request("DELETE", f"{base}/instances/p")

    assert response.status_code == 200 and response.json() == {"instancesDeleted": 1}
    assert_empty(api.request("GET", f"{base}/instances/p"), 404)


def test_purge_of_an_unknown_instance_is_404(api, base):
    assert_empty(api.request("DELETE", f"{base}/instances/missing"), 404)


def test_purge_of_a_running_instance_deletes_it_as_the_extension_3_does(api, base):
    api.start("p")

    response = api.request("DELETE", f"{base}/instances/p")

    assert response.status_code == 200 and response.json() == {"instancesDeleted": 1}
    assert api.instance("p") is None


def test_purge_by_filter(api, base):
    for name, status in [("a", RuntimeStatus.Completed), ("b", RuntimeStatus.Failed), ("c", RuntimeStatus.Running)]:
        api.start(name)
        api.set_status(name, status)

    response = api.request("DELETE", f"{base}/instances/?createdTimeFrom=2024-05-01T00:00:00Z"
                                     f"&runtimeStatus=Completed,Failed,Running")

    assert response.status_code == 200 and response.json() == {"instancesDeleted": 2}
    assert api.instance("c") is not None
    # without a finished runtimeStatus DurableTask.AzureStorage filters on no status: the running one goes too
    again = api.request("DELETE", f"{base}/instances?createdTimeFrom=2024-05-01T00:00:00Z")
    assert again.status_code == 200 and again.json() == {"instancesDeleted": 1}
    assert_empty(api.request("DELETE", f"{base}/instances?createdTimeFrom=2024-05-01T00:00:00Z"), 404)


def test_purge_by_filter_without_created_time_from_is_400_with_a_json_string(api, base):
    response = api.request("DELETE", f"{base}/instances/")

    assert response.status_code == 400
    assert response.json() == "Please provide value for 'createdTimeFrom' parameter."


# -- terminate, suspend, resume, rewind ---------------------------------------------------------------
def test_terminate_is_202_with_an_empty_body_and_sends_the_reason(api, base):
    api.start("t")

    assert_empty(api.request("POST", f"{base}/instances/t/terminate?reason=enough"), 202)
    assert api.inbox("t")[-1]["Input"] == "enough"


@pytest.mark.parametrize("operation", ["terminate", "suspend", "resume", "rewind", "raiseEvent/Go"])
def test_operations_on_an_unknown_instance_are_404(api, base, operation):
    assert_empty(api.request("POST", f"{base}/instances/missing/{operation}", json={"x": 1}), 404)


@pytest.mark.parametrize("operation", ["terminate", "suspend", "resume"])
def test_operations_on_a_finished_instance_are_410(api, base, operation):
    api.start("f")
    api.set_status("f", RuntimeStatus.Completed)

    assert_empty(api.request("POST", f"{base}/instances/f/{operation}"), 410)


def test_suspend_and_resume(api, base):
    api.start("s")
    api.set_status("s", RuntimeStatus.Running)

    assert_empty(api.request("POST", f"{base}/instances/s/suspend?reason=pause"), 202)
    assert api.request("GET", f"{base}/instances/s").json()["runtimeStatus"] == "Suspended"
    assert_empty(api.request("POST", f"{base}/instances/s/resume?reason=go"), 202)
    assert api.request("GET", f"{base}/instances/s").json()["runtimeStatus"] == "Running"


def test_double_suspend_and_resume_when_running_are_500(api, base):
    api.start("s")
    api.set_status("s", RuntimeStatus.Running)

    resumed = api.request("POST", f"{base}/instances/s/resume")
    api.request("POST", f"{base}/instances/s/suspend")
    suspended_again = api.request("POST", f"{base}/instances/s/suspend")

    for response in (resumed, suspended_again):
        assert response.status_code == 500
        assert response.json()["Message"] == "Something went wrong while processing your request"


def test_rewind_of_a_failed_instance_is_202(api, base):
    api.start("r")
    api.set_status("r", RuntimeStatus.Failed, '"boom"')

    assert_empty(api.request("POST", f"{base}/instances/r/rewind?reason=again"), 202)
    assert api.instance("r").status == RuntimeStatus.Running


def test_rewind_of_an_instance_that_did_not_fail_is_the_extension_3s_500(api, base):
    api.start("r")

    response = api.request("POST", f"{base}/instances/r/rewind")

    assert response.status_code == 500
    body = response.json()
    assert list(body) == ERROR_KEYS and body["ExceptionType"] == "System.InvalidOperationException"
    assert body["ExceptionMessage"] == "The rewind operation is only supported on failed orchestration instances."


def test_an_unknown_instance_operation_is_404(api, base):
    api.start("o")

    assert_empty(api.request("POST", f"{base}/instances/o/explode"), 404)


# -- restart ----------------------------------------------------------------------------------------
def test_restart_with_a_new_id_is_202_with_the_check_status_payload(api, base):
    api.start("r", '"payload"')
    api.set_status("r", RuntimeStatus.Completed)

    response = api.request("POST", f"{base}/instances/r/restart")

    assert response.status_code == 202
    new_id = response.json()["id"]
    assert new_id != "r" and response.headers["Location"] == response.json()["statusQueryGetUri"]
    assert api.instance(new_id).input == '"payload"'


@pytest.mark.parametrize("flag", ["false", "False"])
def test_restart_with_the_same_id(api, base, flag):
    api.start("r")
    api.set_status("r", RuntimeStatus.Failed)

    response = api.request("POST", f"{base}/instances/r/restart?restartWithNewInstanceId={flag}")

    assert response.status_code == 202 and response.json()["id"] == "r"
    assert api.instance("r").status == RuntimeStatus.Pending


def test_restart_of_a_running_instance_under_its_id_is_the_extension_3s_500(api, base):
    api.start("r")

    response = api.request("POST", f"{base}/instances/r/restart?restartWithNewInstanceId=false")

    assert response.status_code == 500
    assert response.json()["ExceptionType"] == "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException"


def test_restart_of_an_unknown_instance_is_400(api, base):
    response = api.request("POST", f"{base}/instances/missing/restart")

    assert response.status_code == 400
    body = response.json()
    assert list(body) == ERROR_KEYS and body["ExceptionType"] == "System.ArgumentException"
    assert body["Message"] == "InstanceId does not match a valid orchestration instance."
    assert body["ExceptionMessage"] == "An orchestrastion with the instanceId missing was not found."  # sic


# -- raise event ------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["Pending", "Running", "Suspended"])
def test_raise_event_is_202_and_delivers_the_json(api, base, status):
    api.start("e")
    if status != "Pending":
        api.set_status("e", RuntimeStatus(status))

    response = api.request("POST", f"{base}/instances/e/raiseEvent/Approval", json={"ok": True})

    assert_empty(response, 202)
    raised = api.inbox("e")[-1]
    assert (raised["Name"], json.loads(raised["Input"])) == ("Approval", {"ok": True})


def test_raise_event_on_a_finished_instance_is_410(api, base):
    api.start("e")
    api.set_status("e", RuntimeStatus.Terminated)

    assert_empty(api.request("POST", f"{base}/instances/e/raiseEvent/Go", json=1), 410)


def test_raise_event_needs_json_content(api, base):
    api.start("e")

    wrong_type = api.request("POST", f"{base}/instances/e/raiseEvent/Go", data="true",
                             headers={"Content-Type": "text/plain"})
    bad_json = api.request("POST", f"{base}/instances/e/raiseEvent/Go", data="{nope",
                           headers={"Content-Type": "application/json; charset=utf-8"})

    assert wrong_type.status_code == 400 and "Only application/json request content is supported" in wrong_type.text
    assert bad_json.status_code == 400 and "Invalid JSON content" in bad_json.text
    assert len(api.inbox("e")) == 1  # only the start: nothing was delivered


@pytest.mark.parametrize("body", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b'{"x": [NaN]}'])
def test_json_bodies_with_numbers_json_cannot_hold_are_400_everywhere(api, base, body):
    api.start("e")
    json_type = {"Content-Type": "application/json"}

    assert_json_reader_error(api.request("POST", f"{base}/orchestrators/HelloOrchestrator/nan", data=body,
                                         headers=json_type))
    assert_json_reader_error(api.request("POST", f"{base}/instances/e/raiseEvent/Go", data=body, headers=json_type))
    signal = api.request("POST", f"{base}/entities/Counter/k?op=add", data=body, headers=json_type)
    assert signal.status_code == 400 and signal.json()["Message"].startswith("Could not parse JSON content: ")

    assert api.instance("nan") is None and len(api.inbox("e")) == 1 and api.inbox("@counter@k") == []


# -- entities ---------------------------------------------------------------------------------------
def test_entity_state_is_404_until_there_is_some(api, base):
    assert_empty(api.request("GET", f"{base}/entities/Counter/k"), 404)

    api.call(lambda: api.store.commit_entity("@counter@k", "counter", True, '{"n": 2}', [], [], T0.timestamp()))

    response = api.request("GET", f"{base}/entities/Counter/k")
    assert response.status_code == 200 and response.json() == {"n": 2}


def test_signal_entity_is_202_and_queues_the_operation(api, base):
    assert_empty(api.request("POST", f"{base}/entities/Counter/k?op=add", json=5), 202)
    assert_empty(api.request("DELETE", f"{base}/entities/Counter/k"), 202)

    inbox = api.inbox("@counter@k")
    assert [e["Name"] for e in inbox] == ["op", "op"]  # the extension's name for every entity request
    assert [json.loads(e["Input"])["op"] for e in inbox] == ["add", "delete"]


@pytest.fixture
def entities(api):
    """Three counters and a cart with state, one counter without (deleted): as entity batches leave them."""
    for offset, (entity_id, state) in enumerate([("@counter@b", "2"), ("@counter@a", "1"), ("@cart@x", '["pen"]'),
                                                 ("@counter@gone", None), ("@counter@c", '{"n": 3}')]):
        name = entity_id.split("@")[1]
        at = T0.timestamp() + offset + 0.25
        api.call(lambda: api.store.commit_entity(entity_id, name, state is not None, state, [], [], at))
    api.start("counter-orchestration")  # orchestrations are not entities
    return api


@pytest.mark.parametrize("path", ["/entities", "/entities/"])
def test_entity_listing_lists_every_entity_with_state(entities, base, path):
    response = entities.request("GET", base + path)

    assert response.status_code == 200
    assert response.json() == [
        {"entityId": {"name": "cart", "key": "x"}, "lastOperationTime": "2024-05-01T12:00:02.25Z", "state": None},
        {"entityId": {"name": "counter", "key": "a"}, "lastOperationTime": "2024-05-01T12:00:01.25Z",
         "state": None},
        {"entityId": {"name": "counter", "key": "b"}, "lastOperationTime": "2024-05-01T12:00:00.25Z",
         "state": None},
        {"entityId": {"name": "counter", "key": "c"}, "lastOperationTime": "2024-05-01T12:00:04.25Z",
         "state": None}]
    assert response.headers["x-ms-continuation-token"] == ""  # on the last page too, empty


def test_the_instance_query_lists_entities_as_the_azure_storage_provider_does(entities, base):
    # DurableClient.ListInstancesAsync reads DurableTask.AzureStorage's Instances table, entities included (their
    # instances named by their ids, Running); devhost's own dashboard listing still leaves them out
    response = entities.request("GET", f"{base}/instances/")
    listed = {s["instanceId"]: s for s in response.json()}

    assert response.status_code == 200
    assert sorted(listed) == ["@cart@x", "@counter@a", "@counter@b", "@counter@c", "@counter@gone",
                              "counter-orchestration"]
    assert {k: listed["@counter@c"][k] for k in ("name", "runtimeStatus", "input", "customStatus", "output")} == {
        "name": "@counter@c", "runtimeStatus": "Running", "input": {"exists": True, "state": '{"n": 3}', "sorter": {}},
        "customStatus": {"entityExists": True}, "output": None}
    running = entities.request("GET", f"{base}/instances/?runtimeStatus=Running&instanceIdPrefix=@counter@").json()
    assert [s["instanceId"] for s in running] == ["@counter@b", "@counter@a", "@counter@gone", "@counter@c"]
    assert [s["instanceId"] for s in entities.request("GET", "/devhost/api/instances").json()["instances"]] == [
        "counter-orchestration"]


def test_entity_listing_by_name_with_state(entities, base):
    response = entities.request("GET", f"{base}/entities/Counter?fetchState=TRUE")

    assert [(e["entityId"]["key"], e["state"]) for e in response.json()] == [("a", 1), ("b", 2), ("c", {"n": 3})]
    assert entities.request("GET", f"{base}/entities/cart/?fetchState=true").json()[0]["state"] == ["pen"]
    assert entities.request("GET", f"{base}/entities/nobody").json() == []


def test_entity_listing_by_last_operation_time(entities, base):
    response = entities.request("GET", f"{base}/entities?lastOperationTimeFrom=2024-05-01T12:00:01Z"
                                       "&lastOperationTimeTo=2024-05-01T12:00:03Z")

    assert [e["entityId"]["key"] for e in response.json()] == ["x", "a"]


def test_entity_listing_pages_with_the_continuation_token_header(entities, base):
    keys, token, pages = [], None, 0
    while True:
        response = entities.request("GET", f"{base}/entities?top=3",
                                    headers={"x-ms-continuation-token": token} if token else {})
        keys += [e["entityId"]["key"] for e in response.json()]
        pages += 1
        token = response.headers.get("x-ms-continuation-token")
        if not token:
            break

    assert (keys, pages) == (["x", "a", "b", "c"], 2)



"""devhost.protocol.status_payloads: the status payload and its historyEvents, shaped as the extension's webhook shapes them
(docs/protocol.md §3). Histories are the ones the engine writes for real SDK orchestrators."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from orchestration_driver import T0, Driver

from devhost.jsontext import MAX_DEPTH, shown
from devhost.model import Instance, RuntimeStatus
from devhost.protocol import history_events as ev
from devhost.protocol.status_payloads import (
    code_parameter,
    entity_status,
    history_events,
    management_urls,
    status_payload,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def instance(**overrides) -> Instance:
    fields = dict(instance_id="abc", name="HelloOrchestrator", version="", execution_id="e1",
                  status=RuntimeStatus.Completed, input='"Tokyo"', output='["Hello Tokyo!"]', custom_status=None,
                  created_at=datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc),
                  updated_at=datetime(2024, 5, 1, 12, 0, 3, 999999, tzinfo=timezone.utc))
    fields.update(overrides)
    return Instance(**fields)


def hello_history() -> list[dict]:
    """The full history of a completed two-city chain, as the engine wrote it."""
    def chain(context):
        a = yield context.call_activity("Hello", "Tokyo")
        b = yield context.call_activity("Hello", "Seattle")
        return [a, b]

    d = Driver(chain, name="HelloOrchestrator", input_={"cities": 2})
    d.episode()
    d.complete(0, "Hello Tokyo!")
    d.episode(seconds=2)
    d.complete(1, "Hello Seattle!")
    d.episode(seconds=2)
    return d.history


# -- the payload ----------------------------------------------------------------------------------
def test_status_payload_has_the_webhook_keys_in_order():
    body = status_payload(instance(custom_status='{"step": 3}'))

    assert body == {"name": "HelloOrchestrator", "instanceId": "abc", "runtimeStatus": "Completed",
                    "input": "Tokyo", "customStatus": {"step": 3}, "output": ["Hello Tokyo!"],
                    "createdTime": "2024-05-01T12:00:00Z", "lastUpdatedTime": "2024-05-01T12:00:03Z"}
    assert list(body) == ["name", "instanceId", "runtimeStatus", "input", "customStatus", "output", "createdTime",
                          "lastUpdatedTime"]


def test_the_double_encoded_input_of_an_sdk_start_shows_as_a_string():
    """start_new("O", None, {"a": 1}) stores the JSON text of a JSON string (docs/protocol.md §2.1)."""
    assert status_payload(instance(input=json.dumps('{"a": 1}')))["input"] == '{"a": 1}'


@pytest.mark.parametrize(("text", "value"), [(None, None), ("null", None), ("5", 5), ('"s"', "s"),
                                             ("not json", "not json"), ('{"a": [1]}', {"a": [1]})])
def test_stored_text_is_parsed_json_or_a_plain_string(text, value):
    assert shown(text) == value
    assert status_payload(instance(output=text))["output"] == value


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 990, 5000])
def test_stored_text_nested_too_deeply_shows_as_its_text_and_serializes(levels):
    """A user function's output can nest deeper than a request may; reading it must never fail (it did with
    RecursionError at about 1,000 levels)."""
    text = "[" * levels + "]" * levels
    body = status_payload(instance(input=text, output=text, custom_status=text))
    assert body["output"] == body["input"] == body["customStatus"] == text
    assert json.loads(json.dumps(body))["output"] == text


def test_stored_text_at_the_depth_limit_is_a_value():
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert isinstance(shown(text), list)


def test_input_is_left_out_when_not_asked_for():
    assert status_payload(instance(), show_input=False)["input"] is None


def test_history_events_are_added_only_when_given():
    assert "historyEvents" not in status_payload(instance())
    assert status_payload(instance(), history=[])["historyEvents"] == []


@pytest.mark.parametrize("status", list(RuntimeStatus))
def test_every_runtime_status_shows_by_name(status):
    assert status_payload(instance(status=status))["runtimeStatus"] == status.value


# -- historyEvents --------------------------------------------------------------------------------
def test_history_events_of_a_completed_chain():
    shaped = history_events(hello_history(), show_output=True, show_input=True)

    assert [e["EventType"] for e in shaped] == ["ExecutionStarted", "TaskCompleted", "TaskCompleted",
                                                "ExecutionCompleted"]
    started, tokyo, seattle, completed = shaped
    assert started["FunctionName"] == "HelloOrchestrator" and "Name" not in started
    assert not {"OrchestrationInstance", "ParentInstance", "Version", "Tags"} & set(started)
    # inputs stay the stored JSON text: here the SDK client's double encoding of {"cities": 2}
    assert json.loads(json.loads(started["Input"])) == {"cities": 2}
    assert started["Timestamp"] == "2024-05-01T12:00:00Z"
    assert tokyo == {"EventType": "TaskCompleted", "Timestamp": "2024-05-01T12:00:01Z",
                     "Result": "Hello Tokyo!", "FunctionName": "Hello", "ScheduledTime": "2024-05-01T12:00:01Z",
                     "Input": '"Tokyo"'}
    assert (seattle["FunctionName"], seattle["ScheduledTime"], seattle["Result"]) == (
        "Hello", "2024-05-01T12:00:03Z", "Hello Seattle!")
    assert completed["OrchestrationStatus"] == "Completed"
    assert completed["Result"] == ["Hello Tokyo!", "Hello Seattle!"]


def test_event_ids_played_flags_and_episode_markers_are_removed():
    shaped = history_events(hello_history(), show_output=True, show_input=True)

    assert all("EventId" not in e and "IsPlayed" not in e for e in shaped)
    assert not {"OrchestratorStarted", "OrchestratorCompleted", "TaskScheduled"} & {e["EventType"] for e in shaped}


def test_results_only_with_show_history_output():
    shaped = history_events(hello_history(), show_output=False, show_input=True)

    assert all("Result" not in e for e in shaped)


def test_inputs_only_with_show_input():
    shaped = history_events(hello_history(), show_output=True, show_input=False)

    assert all("Input" not in e for e in shaped)


def test_history_timestamps_keep_their_fraction_without_trailing_zeros():
    """As the extension shows them: DurableTask.AzureStorage serializes the history with Newtonsoft's default date
    format ("...ss.FFFFFFFK") and the extension reads it back with DateParseHandling.None, so durations between
    events are real, not rounded to seconds, and a whole second has no fraction at all."""
    stamped = history_events([ev.event_raised(T0 + timedelta(seconds=1.9876), "go", "1"),
                              ev.event_raised(T0 + timedelta(seconds=2), "go", "1")], True, True)

    assert [e["Timestamp"] for e in stamped] == ["2024-05-01T12:00:01.9876Z", "2024-05-01T12:00:02Z"]


def test_only_the_date_fields_are_shown_as_dates():
    """An event named like a timestamp keeps its name: only Timestamp and FireAt are DateTimes in the extension."""
    (shown_event,) = history_events([ev.event_raised(T0, "2024-05-01T12:00:01.5000000Z", "1")], True, True)

    assert shown_event["Name"] == "2024-05-01T12:00:01.5000000Z"
    assert shown_event["Timestamp"] == "2024-05-01T12:00:00Z"


def test_history_written_by_an_older_devhost_is_shown_as_the_extension_shows_it():
    old = dict(ev.event_raised(T0, "go", "1"), Timestamp="2024-05-01T12:00:01.250000Z")

    assert history_events([old], True, True)[0]["Timestamp"] == "2024-05-01T12:00:01.25Z"


def test_a_failed_activity_keeps_its_reason_and_details():
    history = [ev.orchestrator_started(T0), ev.task_scheduled(T0, 0, "Hello", '"x"'), ev.orchestrator_completed(T0),
               ev.orchestrator_started(T0), ev.task_failed(T0 + timedelta(seconds=2), 0, "Activity function 'Hello' "
                                                           "failed: ValueError: no", "Traceback ...")]

    (failed,) = history_events(history, show_output=True, show_input=False)

    assert failed == {"EventType": "TaskFailed", "Timestamp": "2024-05-01T12:00:02Z",
                      "Reason": "Activity function 'Hello' failed: ValueError: no", "Details": "Traceback ...",
                      "FunctionName": "Hello", "ScheduledTime": "2024-05-01T12:00:00Z"}


def test_a_task_still_running_shows_as_scheduled():
    history = [ev.orchestrator_started(T0), ev.task_scheduled(T0, 0, "Hello", '"x"'), ev.orchestrator_completed(T0)]

    (scheduled,) = history_events(history, show_output=True, show_input=True)

    assert (scheduled["EventType"], scheduled["Name"], scheduled["Input"]) == ("TaskScheduled", "Hello", '"x"')
    assert "Version" not in scheduled


def test_a_sub_orchestration_is_folded_into_its_completion():
    def parent(context):
        return (yield context.call_sub_orchestrator("Child", None, "kid"))

    d = Driver(parent)
    d.episode()
    d.send(ev.sub_orchestration_completed(d.now + timedelta(seconds=5), 0, '"R"'))
    d.episode(seconds=5)

    shaped = history_events(d.history, show_output=True, show_input=False)

    assert [e["EventType"] for e in shaped] == ["ExecutionStarted", "SubOrchestrationInstanceCompleted",
                                                "ExecutionCompleted"]
    assert (shaped[1]["FunctionName"], shaped[1]["Result"], shaped[1]["ScheduledTime"]) == (
        "Child", "R", "2024-05-01T12:00:01Z")


def test_timers_and_events_keep_their_fields():
    def waits(context):
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=10))
        return (yield context.wait_for_external_event("Go"))

    d = Driver(waits, activities=None)
    d.episode()
    d.fire(0)
    d.episode()
    d.raise_event("Go", {"ok": True})
    d.episode()

    shaped = history_events(d.history, show_output=True, show_input=True)

    kinds = [e["EventType"] for e in shaped]
    assert kinds == ["ExecutionStarted", "TimerCreated", "TimerFired", "EventRaised", "ExecutionCompleted"]
    assert shaped[1]["FireAt"] == shaped[2]["FireAt"] == "2024-05-01T12:00:11Z"
    assert "TimerId" not in shaped[2]
    assert shaped[3]["Name"] == "Go"
    assert shaped[4]["Result"] == {"ok": True}


def test_a_retry_timer_shows_as_the_extension_shows_a_timer():
    created = ev.timer_created(T0, 1, "2024-05-01T12:00:02Z", retry_of=0, retry_last=False)

    (shown_timer,) = history_events([created], show_output=True, show_input=True)

    assert shown_timer == {"EventType": "TimerCreated", "Timestamp": "2024-05-01T12:00:00Z",
                           "FireAt": "2024-05-01T12:00:02Z"}


def test_an_entity_shows_as_the_azure_storage_provider_lists_it():
    # Entities.AutoStart names the instance by its id; TaskEntityShim continues as new with its SchedulerState as
    # input ({"exists", "state" as JSON text, "sorter"}) and its EntityStatus as custom status, Running for good
    entity = instance(instance_id="@counter@k", name="Counter", status=RuntimeStatus.Running, input=None,
                      output='{"n": 2}')

    assert status_payload(entity) == {
        "name": "@counter@k", "instanceId": "@counter@k", "runtimeStatus": "Running",
        "input": {"exists": True, "state": '{"n": 2}', "sorter": {}}, "customStatus": {"entityExists": True},
        "output": None, "createdTime": "2024-05-01T12:00:00Z", "lastUpdatedTime": "2024-05-01T12:00:03Z"}
    assert status_payload(entity, show_input=False)["input"] is None


def test_a_deleted_entity_keeps_its_instance_with_an_empty_scheduler_state():
    # the Azure Storage provider does not support implicit entity deletion: the instance stays, Running
    payload = status_payload(instance(instance_id="@counter@k", status=RuntimeStatus.Running, output=None))

    assert (payload["input"], payload["customStatus"], payload["runtimeStatus"]) == ({"sorter": {}}, {}, "Running")


# -- managementUrls (docs/protocol.md §1): the durableClient binding's templates and an instance's URLs -----------
BASE = "http://h/runtime/webhooks/durabletask"


def test_management_urls_default_to_the_bindings_templates():
    inst, common = f"{BASE}/instances/INSTANCEID", "taskHub=TestHubName&connection=Storage"

    assert management_urls(BASE, "TestHubName") == {
        "id": "INSTANCEID", "statusQueryGetUri": f"{inst}?{common}",
        "sendEventPostUri": f"{inst}/raiseEvent/{{eventName}}?{common}",
        "terminatePostUri": f"{inst}/terminate?reason={{text}}&{common}",
        "rewindPostUri": f"{inst}/rewind?reason={{text}}&{common}", "purgeHistoryDeleteUri": f"{inst}?{common}",
        "restartPostUri": f"{inst}/restart?{common}", "suspendPostUri": f"{inst}/suspend?reason={{text}}&{common}",
        "resumePostUri": f"{inst}/resume?reason={{text}}&{common}"}


def test_management_urls_of_an_instance_carry_the_key_escaped():
    urls = management_urls(BASE, "Hub", "abc", key="k/+")

    assert urls["id"] == "abc"
    assert urls["statusQueryGetUri"] == f"{BASE}/instances/abc?taskHub=Hub&connection=Storage&code=k%2F%2B"
    assert all(u.endswith("&code=k%2F%2B") for u in urls.values() if u != "abc")
    assert code_parameter("k/+") == "code=k%2F%2B" and code_parameter(None) == "" and code_parameter("") == ""


def test_an_entitys_status_splits_its_id_and_shows_its_state_only_when_asked():
    counter = instance(instance_id="@counter@k@1", output='{"n": 3}')

    assert entity_status(counter, fetch_state=True) == {"entityId": {"name": "counter", "key": "k@1"},
                                                        "lastOperationTime": "2024-05-01T12:00:03.999999Z",
                                                        "state": {"n": 3}}
    assert entity_status(counter, fetch_state=False)["state"] is None


def test_a_pending_sub_orchestration_shows_without_version_and_an_odd_timestamp_as_it_is():
    created = dict(ev.sub_orchestration_created(T0, 0, "Child", "c", None), Timestamp="not a time")

    (shown,) = history_events([created], show_output=True, show_input=True)

    assert shown == {"EventType": "SubOrchestrationInstanceCreated", "Timestamp": "not a time", "Name": "Child",
                     "InstanceId": "c", "Input": None}

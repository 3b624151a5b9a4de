"""devhost.protocol.history_events: each event in the shape the extension sends the SDK (docs/protocol.md §4.1),
field by field, as the SDK and the status answers read them."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from devhost.protocol import history_events as ev

AT = datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=timezone.utc)
STAMP = "2024-05-01T12:00:00.5000000Z"
COMMON = {"EventId": -1, "IsPlayed": False, "Timestamp": STAMP}


@pytest.mark.parametrize(("version", "recorded"), [(None, ""), ("", ""), ("2.0", "2.0")])
def test_execution_started_records_the_version_or_an_empty_one(version, recorded):
    parent = {"Name": "P", "Version": "", "TaskScheduleId": 3,
              "OrchestrationInstance": {"InstanceId": "p", "ExecutionId": "pe"}}

    assert ev.execution_started(AT, "i", "e", "O", '"in"', parent, version=version) == {
        "EventType": 0, **COMMON, "OrchestrationInstance": {"InstanceId": "i", "ExecutionId": "e"},
        "ParentInstance": parent, "Name": "O", "Version": recorded, "Input": '"in"', "Tags": None}
    assert ev.execution_started(AT, "i", "e", "O", None)["Version"] == ""


def test_scheduled_tasks_carry_their_event_id_and_an_empty_version():
    assert ev.task_scheduled(AT, 2, "Hello", '"x"') == {"EventType": 4, **COMMON, "EventId": 2, "Name": "Hello",
                                                         "Version": "", "Input": '"x"'}
    assert ev.sub_orchestration_created(AT, 3, "Child", "c", None) == {
        "EventType": 7, **COMMON, "EventId": 3, "Name": "Child", "Version": "", "InstanceId": "c", "Input": None}


def test_completions_name_the_task_they_answer():
    assert ev.task_failed(AT, 2, "why", "details") == {"EventType": 6, **COMMON, "TaskScheduledId": 2,
                                                       "Reason": "why", "Details": "details"}
    assert ev.sub_orchestration_failed(AT, 3, "why", None) == {"EventType": 9, **COMMON, "TaskScheduledId": 3,
                                                               "Reason": "why", "Details": None}
    assert ev.timer_fired(AT, 4, STAMP) == {"EventType": 11, **COMMON, "TimerId": 4, "FireAt": STAMP}


def test_a_retry_timer_carries_devhosts_own_note_which_is_left_out_for_the_sdk():
    plain = ev.timer_created(AT, 1, STAMP)
    retry = ev.timer_created(AT, 1, STAMP, retry_of=0, retry_last=True)

    assert plain == {"EventType": 10, **COMMON, "EventId": 1, "FireAt": STAMP}
    assert retry == dict(plain, RetryOf=0, RetryLast=True)
    assert ev.without_devhost_fields(retry) == plain
    assert ev.timer_created(AT, 1, STAMP, retry_of=0) == dict(plain, RetryOf=0, RetryLast=False)

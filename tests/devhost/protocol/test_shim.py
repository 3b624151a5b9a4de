"""devhost.protocol.shim: how an OrchestratorState's actions meet the history, as the extension's out-of-proc shim replays
them: fan-out/fan-in, retries and their event ids, timers, external events, entities, durable HTTP and
non-determinism. Driven, like the engine tests, by real SDK orchestrators episode by episode (orchestration_driver),
through engine.decide, the shim's one caller."""
from __future__ import annotations

import json
from datetime import timedelta

import azure.durable_functions as df
import pytest
from orchestration_driver import CITIES, T0, Driver, failure_reason, hello_chain, wait_for_go

from devhost.model import (
    ENTITY_REQUEST,
    ActionType,
    EpisodeOutcome,
    EventType,
    RuntimeStatus,
    ScheduledActivity,
    history_timestamp,
)
from devhost.protocol import engine
from devhost.protocol import history_events as ev
from devhost.protocol.shim import ActionReplay, NonDeterminism, Scheduled, non_determinism_text

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:Potential duplicate Task completion")


# -- fan-out / fan-in -------------------------------------------------------------------------------
def fan_out(context: df.DurableOrchestrationContext):
    tasks = [context.call_activity("Hello", city) for city in CITIES]
    return (yield context.task_all(tasks))


def test_task_all_schedules_every_activity_in_one_episode():
    d = Driver(fan_out)

    decision = d.episode()

    assert d.state["actions"] == [[{"actionType": 12, "compoundActions": [
        {"actionType": 0, "functionName": "Hello", "input": json.dumps(c)} for c in CITIES]}]]
    assert decision.activities == [ScheduledActivity(i, "Hello", json.dumps(c)) for i, c in enumerate(CITIES)]


def test_task_all_completes_when_the_last_result_arrives_in_any_order():
    d = Driver(fan_out)
    d.episode()
    d.complete(2, "L")
    d.complete(0, "T")

    partial = d.episode()
    assert partial.status == RuntimeStatus.Running and partial.activities == []

    d.complete(1, "S")
    done = d.episode()
    assert done.status == RuntimeStatus.Completed and json.loads(done.output) == ["T", "S", "L"]


def test_completions_that_arrive_together_are_applied_in_one_episode():
    d = Driver(fan_out)
    d.episode()
    for i in range(3):
        d.complete(i, i)

    assert d.episode().status == RuntimeStatus.Completed
    assert len(d.episodes) == 2


def test_task_all_fails_on_the_first_failure_and_completes_once_the_others_finish():
    def caught(context):
        try:
            yield context.task_all([context.call_activity("Hello", c) for c in CITIES])
        except Exception as exc:
            return f"caught: {str(exc).splitlines()[0]}"

    d = Driver(caught)
    d.episode()
    d.fail(1, failure_reason())

    failed = d.episode()
    assert d.state["isDone"] is True
    assert d.state["output"] == "caught: Activity function 'Hello' failed: ValueError: no "
    assert failed.status == RuntimeStatus.Running  # activities 0 and 2 are still open (docs/protocol.md §4.3)

    d.complete(0, "T")
    d.complete(2, "L")
    done = d.episode()
    assert done.status == RuntimeStatus.Completed
    assert json.loads(done.output) == "caught: Activity function 'Hello' failed: ValueError: no "


def test_task_any_returns_but_the_instance_stays_open_until_its_activities_finish():
    def race(context):
        winner = yield context.task_any([context.call_activity("Hello", "a"), context.call_activity("Hello", "b")])
        return winner.result

    d = Driver(race)
    d.episode()
    d.complete(1, "B")

    first = d.episode()
    assert d.state["isDone"] is True and d.state["output"] == "B"
    assert first.status == RuntimeStatus.Running  # activity 0 is still open (docs/protocol.md §4.3)

    d.complete(0, "A")
    assert d.episode().status == RuntimeStatus.Completed
    assert json.loads(d.decisions[-1].output) == "B"


# -- what a blocked orchestrator awaits (no replay until it can run on) ------------------------------
def test_a_task_all_of_activities_awaits_its_open_calls_until_the_last():
    d = Driver(fan_out)
    assert d.episode().awaits == {0, 1, 2}

    d.complete(2, "L")
    assert d.episode().awaits == {0, 1}
    d.complete(0, "T")
    d.complete(1, "S")
    assert d.episode().status == RuntimeStatus.Completed


def test_a_failure_inside_task_all_reaches_the_orchestrator_which_then_awaits_the_rest():
    def caught(context):
        try:
            yield context.task_all([context.call_activity("Hello", c) for c in CITIES])
        except Exception:
            return "caught"

    d = Driver(caught)
    d.episode()
    d.fail(1, failure_reason())

    failed = d.episode()
    assert d.state["isDone"] is True and d.state["output"] == "caught"
    assert failed.awaits == {0, 2}  # done: only the last open activity ends the instance


@pytest.mark.parametrize("orchestrator", [
    pytest.param(lambda c: (yield c.task_any([c.call_activity("Hello", "a"), c.call_activity("Hello", "b")])),
                 id="task_any"),
    pytest.param(lambda c: (yield c.task_all([c.call_activity("Hello", "a"), c.create_timer(T0 + timedelta(1))])),
                 id="task_all with a timer"),
    pytest.param(lambda c: (yield c.call_activity("Hello", "a")), id="one activity"),
    pytest.param(wait_for_go, id="an external event"),
])
def test_anything_else_wakes_on_any_news(orchestrator):
    d = Driver(orchestrator)

    assert d.episode().awaits is None


def test_a_task_all_with_retries_awaits_each_calls_current_attempt():
    def retried(context):
        return (yield context.task_all([context.call_activity_with_retry("Hello", df.RetryOptions(1000, 3), c)
                                        for c in ("a", "b", "c")]))

    d = Driver(retried)
    assert d.episode().awaits == {0, 1, 2}

    d.fail(1, failure_reason())  # a failure wakes the instance: the retry timer is scheduled
    decision = d.episode()
    assert d.scheduled(decision) == [(3, "TimerCreated", d.scheduled(decision)[0][2])]
    assert decision.awaits == {0, 2}  # b waits for its timer, whose firing wakes the instance

    d.fire(3)
    retrying = d.episode()
    assert [(i, kind) for i, kind, _ in d.scheduled(retrying)] == [(4, "TaskScheduled")]
    assert retrying.awaits == {0, 2, 4}  # b's second attempt
    for task_id in (0, 2, 4):
        d.complete(task_id, "ok")
    assert json.loads(d.episode().output) == ["ok", "ok", "ok"]


def test_a_task_all_over_tasks_yielded_before_lists_only_the_new_ones_and_ends_no_later_than_the_sdk():
    def again(context):
        first = context.call_activity("Hello", "a")
        yield context.task_any([first, context.create_timer(T0 + timedelta(seconds=5))])
        return (yield context.task_all([first, context.call_activity("Hello", "b")]))

    d = Driver(again)
    d.episode()
    d.fire(1)
    decision = d.episode()

    assert d.state["actions"][0][-1]["compoundActions"] == [{"actionType": 0, "functionName": "Hello",
                                                            "input": '"b"'}]
    assert decision.awaits == {2}  # activity 0 still open: its completion wakes the instance (not awaited)


# -- retries ----------------------------------------------------------------------------------------
def flaky(context):
    try:
        return (yield context.call_activity_with_retry("Flaky", df.RetryOptions(2000, 3), "x"))
    except Exception as exc:
        return f"gave up: {str(exc).splitlines()[0]}"


def test_with_retry_takes_ids_task_timer_task_timer_task_timer():
    d = Driver(flaky, activities=frozenset({"Flaky"}))
    d.episode()
    assert d.scheduled() == [(0, "TaskScheduled", "Flaky")]
    assert d.state["actions"] == [[{"actionType": 12, "compoundActions": [{
        "actionType": 1, "functionName": "Flaky", "input": '"x"',
        "retryOptions": {"firstRetryIntervalInMilliseconds": 2000, "maxNumberOfAttempts": 3}}]}]]

    d.fail(0, failure_reason("Flaky"))
    d.episode()
    failed_at = d.now
    assert d.scheduled() == [(1, "TimerCreated", history_timestamp(failed_at + timedelta(seconds=2)))]

    d.fire(1)
    d.episode()
    assert d.scheduled() == [(2, "TaskScheduled", "Flaky")]

    d.fail(2, failure_reason("Flaky"))
    d.episode()
    assert d.scheduled() == [(3, "TimerCreated", history_timestamp(d.now + timedelta(seconds=2)))]

    d.fire(3)
    d.episode()
    assert d.scheduled() == [(4, "TaskScheduled", "Flaky")]

    d.fail(4, failure_reason("Flaky"))
    d.episode()
    assert d.scheduled() == [(5, "TimerCreated", history_timestamp(d.now))]  # the extra timer fires at once
    assert d.status == RuntimeStatus.Running

    d.fire(5)
    last = d.episode()
    assert last.status == RuntimeStatus.Completed
    assert json.loads(last.output) == "gave up: Activity function 'Flaky' failed: ValueError: no "


def test_retry_timers_note_the_attempt_they_follow_for_rewind_but_the_sdk_never_sees_it():
    d = Driver(flaky, activities=frozenset({"Flaky"}))
    d.episode()
    for attempt, timer in ((0, 1), (2, 3), (4, 5)):
        d.fail(attempt, failure_reason("Flaky"))
        d.episode()
        d.fire(timer)
        d.episode()

    timers = [e for e in d.history if e["EventType"] == EventType.TimerCreated]
    assert [(e["EventId"], e[ev.RETRY_OF], e[ev.RETRY_LAST]) for e in timers] == [(1, 0, False), (3, 2, False),
                                                                                   (5, 4, True)]
    context = d.episodes[-1].context_json(None, None)
    assert ev.RETRY_OF not in context and ev.RETRY_LAST not in context


def test_with_retry_succeeds_on_a_later_attempt():
    d = Driver(flaky, activities=frozenset({"Flaky"}))
    d.episode()
    d.fail(0, failure_reason("Flaky"))
    d.episode()
    d.fire(1)
    d.episode()
    d.complete(2, "ok")

    decision = d.episode()

    assert decision.status == RuntimeStatus.Completed and json.loads(decision.output) == "ok"
    assert d.kinds().count("TaskScheduled") == 2 and d.kinds().count("TimerFired") == 1


def test_a_retry_timer_message_is_due_at_its_fire_time_for_this_execution():
    d = Driver(flaky, activities=frozenset({"Flaky"}))
    d.episode()
    d.fail(0, failure_reason("Flaky"))

    decision = d.episode()

    (timer,) = decision.messages
    assert timer.instance_id == "inst-1"
    assert timer.visible_at == (d.now + timedelta(seconds=2)).timestamp()
    assert timer.event["EventType"] == EventType.TimerFired and timer.event["TimerId"] == 1
    assert timer.event["ExecutionId"] == "exec-1"


# -- timers -----------------------------------------------------------------------------------------
def approval(context):
    timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=30))
    event = context.wait_for_external_event("Approval")
    winner = yield context.task_any([event, timer])
    if winner == event:
        timer.cancel()
        return f"approved: {event.result}"
    return "timed out"


def test_a_timer_is_created_at_the_orchestrators_fire_at():
    d = Driver(approval)

    decision = d.episode()

    fire_at = T0 + timedelta(seconds=31)  # the episode ran at T0 + 1s
    assert d.scheduled() == [(0, "TimerCreated", history_timestamp(fire_at))]
    (message,) = decision.messages
    assert message.visible_at == fire_at.timestamp()
    assert message.event["FireAt"] == history_timestamp(fire_at)


def test_the_timer_wins_the_timeout_pattern():
    d = Driver(approval)
    d.episode()
    d.fire(0)

    decision = d.episode()

    assert decision.status == RuntimeStatus.Completed and json.loads(decision.output) == "timed out"
    assert d.kinds(decision.history)[:2] == ["OrchestratorStarted", "TimerFired"]


def test_a_cancelled_timer_does_not_keep_the_instance_open():
    d = Driver(approval)
    d.episode()
    d.raise_event("Approval", True)

    decision = d.episode()

    assert d.state["actions"][0][0]["compoundActions"][1]["isCanceled"] is True
    assert decision.status == RuntimeStatus.Completed and json.loads(decision.output) == "approved: True"


def test_a_timer_cancelled_after_losing_a_race_does_not_hold_the_end():
    def activity_or_timeout(context):
        timer = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
        first = context.call_activity("Hello", "x")
        if (yield context.task_any([timer, first])) == first:
            timer.cancel()
        return (yield context.call_activity("Hello", "y"))

    d = Driver(activity_or_timeout)
    d.episode()
    assert [s[:2] for s in d.scheduled()] == [(0, "TimerCreated"), (1, "TaskScheduled")]
    d.complete(1, "x")
    assert d.episode().activities == [ScheduledActivity(2, "Hello", '"y"')]
    d.complete(2, "y")

    assert d.episode().status == RuntimeStatus.Completed  # the timer due in an hour has not fired


def test_a_timer_cancelled_in_the_episode_that_creates_it_is_recorded_but_never_fires():
    episode = engine.prepare("i", "e", "O", RuntimeStatus.Pending, [],
                             [(1, ev.execution_started(T0, "i", "e", "O", None))], T0)
    state = {"isDone": False, "schemaVersion": 2, "actions": [[
        {"actionType": 5, "fireAt": "2024-05-01T13:00:00.000000Z", "isCanceled": True},
        {"actionType": 0, "functionName": "Hello", "input": "null"}]]}

    decision = engine.decide(episode, state, None, None)

    assert [(e["EventType"], e["EventId"]) for e in decision.history[2:4]] == [(EventType.TimerCreated, 0),
                                                                               (EventType.TaskScheduled, 1)]
    assert decision.messages == [] and decision.activities == [ScheduledActivity(1, "Hello", "null")]


def test_a_long_timer_split_by_the_sdk_fires_at_its_end():
    def sleeps_ten_days(context):
        yield context.create_timer(context.current_utc_datetime + timedelta(days=10))
        return "late"

    d = Driver(sleeps_ten_days)
    d.episode()
    end = T0 + timedelta(days=10, seconds=1)
    fired = 0
    while d.status == RuntimeStatus.Running:
        ((timer_id, kind, fire_at),) = d.scheduled()
        assert kind == "TimerCreated" and fire_at <= history_timestamp(end)  # 3-day steps, never past the end
        d.fire(timer_id)
        d.episode()
        fired += 1

    assert fired == 3 and d.now >= end
    assert json.loads(d.decisions[-1].output) == "late"


# -- external events --------------------------------------------------------------------------------
def test_an_external_event_completes_the_wait():
    d = Driver(wait_for_go)
    first = d.episode()
    assert first.activities == [] and first.messages == [] and d.scheduled() == []  # a wait takes no id

    d.raise_event("Go", {"n": 1})
    decision = d.episode()

    assert decision.status == RuntimeStatus.Completed and json.loads(decision.output) == {"n": 1}


def test_an_event_raised_before_the_wait_is_kept_for_it():
    def activity_then_wait(context):
        a = yield context.call_activity("Hello", "x")
        b = yield context.wait_for_external_event("Go")
        return [a, b]

    d = Driver(activity_then_wait)
    d.episode()
    d.raise_event("Go", 5)
    assert d.episode().status == RuntimeStatus.Running

    d.complete(0, "hx")
    decision = d.episode()

    assert decision.status == RuntimeStatus.Completed and json.loads(decision.output) == ["hx", 5]


def test_events_are_matched_by_name_and_each_completes_one_wait():
    def two_waits(context):
        first = yield context.wait_for_external_event("Go")
        second = yield context.wait_for_external_event("Go")
        return [first, second]

    d = Driver(two_waits)
    d.episode()
    d.raise_event("go", "wrong case")
    d.raise_event("Go", 1)
    assert d.episode().status == RuntimeStatus.Running

    d.raise_event("Go", 2)
    assert json.loads(d.episode().output) == [1, 2]


# -- non-determinism -----------------------------------------------------------------------------
def replay_with(original, changed, completions=1) -> EpisodeOutcome:
    """Run `original` for one episode, then replay its history with the `changed` code."""
    d = Driver(original, activities=None)
    d.episode()
    for task_id in range(completions):
        d.complete(task_id, "x")
    d.main = df.Orchestrator.create(changed)
    return d.episode()


def two_calls(context):
    yield context.call_activity("Hello", "a")
    yield context.call_activity("Hello", "b")


def test_a_different_activity_name_is_non_determinism_naming_the_event_id():
    def renamed(context):
        yield context.call_activity("Other", "a")

    decision = replay_with(two_calls, renamed)

    assert decision.status == RuntimeStatus.Failed
    assert json.loads(decision.output) == (
        "Orchestrator function 'O' failed: Non-Deterministic workflow detected: A previous execution of this "
        "orchestration scheduled an activity task with sequence number 0 named 'Hello', but the current orchestration "
        "replay instead scheduled an activity task named 'Other' with this sequence number.  Was a change made to "
        "the orchestrator code after this instance had already started running?")  # DurableTask.Core's, word for word


@pytest.mark.parametrize("actions, scheduled", [
    ([{"actionType": 0, "functionName": "Other", "input": "1"}], Scheduled(EventType.TaskScheduled, "Other")),
    ([], None),
])
def test_non_determinism_carries_the_recorded_event_and_what_the_code_scheduled_instead(actions, scheduled):
    """For the replay check (python -m devhost replay), which names both."""
    recorded = ev.task_scheduled(T0, 0, "Hello", '"1"')
    history = [ev.orchestrator_started(T0), ev.execution_started(T0, "i", "e", "O", None, None), recorded]
    with pytest.raises(NonDeterminism) as caught:
        ActionReplay("e", actions, T0, None).replay(history)
    assert caught.value.event is recorded
    got = caught.value.scheduled
    if scheduled is None:
        assert got is None
    else:
        assert (got.kind, got.name) == (scheduled.kind, scheduled.name)


def test_an_activity_name_in_another_case_is_the_same_task():
    """DurableTask.Core compares the recorded and replayed names with StringComparison.OrdinalIgnoreCase."""
    def recased(context):
        yield context.call_activity("hello", "a")
        yield context.call_activity("HELLO", "b")

    assert replay_with(two_calls, recased).status == RuntimeStatus.Running


def test_a_missing_action_is_non_determinism_naming_the_event_id():
    def forgets(context):
        return "nothing scheduled"
        yield

    output = json.loads(replay_with(two_calls, forgets).output)

    assert "scheduled an activity task with sequence ID 0 and name 'Hello' (version ''), but the current replay " \
           "execution hasn't (yet?) scheduled this task" in output


def test_a_different_kind_of_task_is_non_determinism():
    def timer_instead(context):
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=5))

    output = json.loads(replay_with(two_calls, timer_instead).output)

    assert "an activity task with sequence number 0 named 'Hello', but the current orchestration replay instead " \
           "produced a CreateTimerOrchestratorAction action with this sequence number." in output


def test_an_unchanged_replay_is_not_non_determinism():
    decision = replay_with(two_calls, two_calls)

    assert decision.status == RuntimeStatus.Running
    assert decision.activities == [ScheduledActivity(1, "Hello", '"b"')]


# -- entities and durable HTTP --------------------------------------------------------------------
def test_signal_and_call_entity_send_requests_and_the_answer_resumes_the_caller():
    def uses_counter(context):
        entity = df.EntityId("Counter", "k1")
        context.signal_entity(entity, "add", 5)
        return (yield context.call_entity(entity, "get"))

    d = Driver(uses_counter)
    decision = d.episode()

    # Every entity request is the event "op" in history, as the extension names its RequestMessage.
    assert d.scheduled() == [(0, "EventSent", "op"), (1, "EventSent", "op")]
    signal, call = (json.loads(m.event["Input"]) for m in decision.messages)
    assert [m.instance_id for m in decision.messages] == ["@counter@k1", "@counter@k1"]
    assert (signal["op"], signal["signal"], signal["input"]) == ("add", True, "5")
    assert (call["op"], call["signal"], call["parent"], call["parentExecution"]) == ("get", False, "inst-1", "exec-1")
    assert decision.status == RuntimeStatus.Running

    d.send(ev.event_raised(d.now, call["id"], json.dumps({"result": "6"})))
    assert json.loads(d.episode().output) == 6


def test_call_http_runs_as_the_built_in_http_activity():
    def calls_http(context):
        response = yield context.call_http("GET", "http://localhost:9/ping")
        return response["statusCode"]  # the SDK 1.7 hands over the activity's JSON as a dict

    d = Driver(calls_http)
    decision = d.episode()

    (activity,) = decision.activities
    task_id, name, request = activity.task_id, activity.name, activity.input
    assert (task_id, name) == (0, "BuiltIn::HttpActivity")
    assert json.loads(request)["uri"] == "http://localhost:9/ping"
    d.complete(0, {"statusCode": 204, "headers": {}, "content": ""})
    assert json.loads(d.episode().output) == 204


def test_non_determinism_of_timers_and_sub_orchestrations_in_durable_task_cores_words():
    timer = ev.timer_created(T0, 2, "2024-05-01T12:00:05Z")
    child = ev.sub_orchestration_created(T0, 1, "Child", "kid", None)

    assert non_determinism_text(timer, None) == (
        "A previous execution of this orchestration scheduled a timer task with sequence number 2 but the current "
        "replay execution hasn't (yet?) scheduled this task. Was a change made to the orchestrator code after this "
        "instance had already started running?")
    assert non_determinism_text(child, Scheduled(EventType.SubOrchestrationInstanceCreated, "Other")) == (
        "A previous execution of this orchestration scheduled a sub-orchestration task with sequence ID 1 and name "
        "'Child' (version '', instance ID 'kid'), but the current orchestration replay instead scheduled a "
        "sub-orchestration task with name Other at this sequence number. Was a change made to the orchestrator code "
        "after this instance had already started running?")


@pytest.mark.parametrize("kind, action", [
    (EventType.TaskScheduled, "ScheduleTaskOrchestratorAction"),
    (EventType.SubOrchestrationInstanceCreated, "CreateSubOrchestrationAction"),
    (EventType.TimerCreated, "CreateTimerOrchestratorAction"),
    (EventType.EventSent, "SendEventOrchestratorAction"),
])
def test_a_task_of_another_kind_is_named_by_its_durable_task_core_action(kind, action):
    """DurableTask.Core names what the replay produced instead by its action's .NET type (GetType().Name)."""
    recorded = [ev.task_scheduled(T0, 3, "Hello", None), ev.timer_created(T0, 3, "2024-05-01T12:00:05Z"),
                ev.sub_orchestration_created(T0, 3, "Child", "kid", None), ev.event_sent(T0, 3, "kid", "Go", None)]
    for event in recorded:
        if event["EventType"] != kind:
            text = non_determinism_text(event, Scheduled(kind, "X"))
            where = "scheduled a" if event["EventType"] == EventType.EventSent else "produced a"
            assert f"replay instead {where} {action} " in text


_WAS_CHANGED = "Was a change made to the orchestrator code after this instance had already started running?"
_ACTIVITY = "A previous execution of this orchestration scheduled an activity task with sequence"
_CHILD = ("A previous execution of this orchestration scheduled a sub-orchestration task with sequence ID 3 and name "
          "'Child' (version '', instance ID 'kid'), but the current")
_SENT = "A previous execution of this orchestration scheduled a send event task with sequence ID 3, type 'EventSent'"


@pytest.mark.parametrize("recorded, instead, text", [
    ("activity", None, f"{_ACTIVITY} ID 3 and name 'Hello' (version ''), but the current replay execution hasn't "
                       f"(yet?) scheduled this task. {_WAS_CHANGED}"),
    ("activity", "timer", f"{_ACTIVITY} number 3 named 'Hello', but the current orchestration replay instead produced "
                          f"a CreateTimerOrchestratorAction action with this sequence number. {_WAS_CHANGED}"),
    ("activity", "activity", f"{_ACTIVITY} number 3 named 'Hello', but the current orchestration replay instead "
                             f"scheduled an activity task named 'Other' with this sequence number.  {_WAS_CHANGED}"),
    ("timer", None, "A previous execution of this orchestration scheduled a timer task with sequence number 3 but the "
                    f"current replay execution hasn't (yet?) scheduled this task. {_WAS_CHANGED}"),
    ("timer", "activity", "A previous execution of this orchestration scheduled a timer task with sequence number 3 "
                          "named but the current orchestration replay instead produced a "
                          f"ScheduleTaskOrchestratorAction action with this sequence number. {_WAS_CHANGED}"),
    ("child", None, f"{_CHILD} replay execution hasn't (yet?) scheduled this task. {_WAS_CHANGED}"),
    ("child", "sent", f"{_CHILD} orchestration replay instead produced a SendEventOrchestratorAction action at this "
                      f"sequence number. {_WAS_CHANGED}"),
    ("child", "child", f"{_CHILD} orchestration replay instead scheduled a sub-orchestration task with name Other at "
                       f"this sequence number. {_WAS_CHANGED}"),
    ("sent", None, f"{_SENT} name 'Go', instance ID 'kid', but the current replay execution hasn't (yet?) scheduled "
                   f"this task. {_WAS_CHANGED}"),
    ("sent", "child", f"{_SENT}, name 'Go', instance ID 'kid', but the current orchestration replay instead scheduled "
                      f"a CreateSubOrchestrationAction task at this sequence number. {_WAS_CHANGED}"),
    ("sent", "sent", f"{_SENT}, name 'Go', instance ID 'kid'), but the current orchestration replay instead scheduled "
                     f"a send event task with name Otherat this sequence number. {_WAS_CHANGED}"),
])
def test_every_non_determinism_text_is_durable_task_cores_word_for_word(recorded, instead, text):
    """TaskOrchestrationContext.Handle<Kind>Event's messages (DurableTask.Core), for a recorded task the replay did
    not schedule, scheduled as another kind, or under another name: their odd spaces and missing words included."""
    events = {"activity": ev.task_scheduled(T0, 3, "Hello", None),
              "timer": ev.timer_created(T0, 3, "2024-05-01T12:00:05Z"),
              "child": ev.sub_orchestration_created(T0, 3, "Child", "kid", None),
              "sent": ev.event_sent(T0, 3, "kid", "Go", None)}
    kinds = {"activity": EventType.TaskScheduled, "timer": EventType.TimerCreated,
             "child": EventType.SubOrchestrationInstanceCreated, "sent": EventType.EventSent}
    item = None if instead is None else Scheduled(kinds[instead], "Other")
    assert non_determinism_text(events[recorded], item) == text


def test_a_recorded_version_is_named_and_a_null_field_is_empty_as_in_net_interpolation():
    """A history written elsewhere may carry a version, or nulls: C# interpolates a null as nothing."""
    versioned = dict(ev.task_scheduled(T0, 3, "Hello", None), Version="2")
    assert "sequence ID 3 and name 'Hello' (version '2'), but" in non_determinism_text(versioned, None)
    nulls = dict(ev.sub_orchestration_created(T0, 3, "Child", "kid", None), Version=None, InstanceId=None)
    assert "name 'Child' (version '', instance ID ''), but" in non_determinism_text(nulls, None)
    nameless = dict(ev.event_sent(T0, 3, "kid", "Go", None), Name=None)
    assert "type 'EventSent' name '', instance ID 'kid', but" in non_determinism_text(nameless, None)


ENTITY_CALL = {"actionType": ActionType.CallEntity, "instanceId": "@counter@c", "operation": "get", "input": None}


def devhosts_request_id() -> str:
    """The request id devhost's replay gives the entity call (its scheduled EventSent's input)."""
    replay = ActionReplay("e", [ENTITY_CALL], T0, None)
    replay.replay([ev.orchestrator_started(T0), ev.execution_started(T0, "i", "e", "O", None, None)])
    return json.loads(replay.scheduled[0].input)["id"]


@pytest.mark.parametrize("recorded_input, answered_as, answered", [
    ('{"id": "from-an-azure-task-hub", "op": "get"}', "from-an-azure-task-hub", True),
    ('{"id": "from-an-azure-task-hub", "op": "get"}', "devhost", False),  # not under devhost's own id then
    ('{"op": "get"}', "devhost", True),  # no id recorded: devhost's own
    ("not JSON", "devhost", True),
    (None, "devhost", True),
])
def test_an_entity_call_waits_for_the_answer_named_by_the_request_id_its_recorded_event_sent_carries(
        recorded_input, answered_as, answered):
    """A history from elsewhere names the request by an id devhost did not compute: the call takes the answer raised
    under that id, as the SDK keys it; a recorded request without a readable id keeps devhost's own."""
    name = devhosts_request_id() if answered_as == "devhost" else answered_as
    history = [ev.orchestrator_started(T0), ev.execution_started(T0, "i", "e", "O", None, None),
               ev.event_sent(T0, 0, "@counter@c", ENTITY_REQUEST, recorded_input), ev.orchestrator_completed(T0),
               ev.orchestrator_started(T0), ev.event_raised(T0, name, '{"result": "1"}')]
    replay = ActionReplay("e", [ENTITY_CALL], T0, None)

    replay.replay(history)

    assert replay.blocked() is not answered  # answered: the call is done, the code runs on past it


# -- what the next episode schedules (issue 24: pinned by behaviour, not by the final output alone) ---------------
def wait_then_greet(context):
    city = yield context.wait_for_external_event("Go")
    return (yield context.call_activity("Hello", city))


def test_an_event_that_arrives_while_the_orchestrator_waits_schedules_what_follows_the_wait():
    d = Driver(wait_then_greet)
    d.episode()
    assert d.scheduled() == [] and d.status == RuntimeStatus.Running

    d.raise_event("Go", "Lima")
    decision = d.episode()

    assert decision.activities == [ScheduledActivity(0, "Hello", '"Lima"')]
    assert d.scheduled() == [(0, "TaskScheduled", "Hello")] and decision.status == RuntimeStatus.Running
    d.complete(0, "Hello Lima!")
    assert json.loads(d.episode().output) == "Hello Lima!"


def test_the_driver_refuses_a_completion_of_a_task_no_event_announced():
    d = Driver(wait_then_greet)
    d.episode()

    with pytest.raises(AssertionError, match="TaskCompleted for task 0, which no TaskScheduled"):
        d.complete(0, "Hello Lima!")
    with pytest.raises(AssertionError, match="TimerFired for task 0, which no TimerCreated"):
        d.send(ev.timer_fired(d.now, 0, history_timestamp(d.now)))


def once(context):
    try:
        return (yield context.call_activity_with_retry("Flaky", df.RetryOptions(2000, 1), "x"))
    except Exception as exc:
        return f"gave up: {str(exc).splitlines()[0]}"


def test_a_retry_policy_of_one_attempt_gives_up_after_the_first_failure():
    d = Driver(once, activities=frozenset({"Flaky"}))
    d.episode()
    d.fail(0, failure_reason("Flaky"))

    d.episode()

    # no retry: only the extra timer the SDK waits for after the last failure, due at once
    assert d.scheduled() == [(1, "TimerCreated", history_timestamp(d.now))]
    d.fire(1)
    last = d.episode()
    assert last.status == RuntimeStatus.Completed and last.activities == []
    assert json.loads(last.output) == "gave up: Activity function 'Flaky' failed: ValueError: no "
    assert d.kinds().count("TaskScheduled") == 1


@pytest.mark.parametrize("options", [None, {}, {"firstRetryIntervalInMilliseconds": 1000}],
                         ids=["no-options", "empty", "no-attempts"])
def test_a_retry_action_without_a_number_of_attempts_makes_one(options):
    """An OrchestratorState written by hand (or another SDK) may leave maxNumberOfAttempts out: one attempt."""
    action = {"actionType": 1, "functionName": "Flaky", "input": '"x"'}
    if options is not None:
        action["retryOptions"] = options
    replay = ActionReplay("exec-1", [action], T0)
    history = [ev.orchestrator_started(T0), ev.execution_started(T0, "i", "exec-1", "O", None),
               ev.task_scheduled(T0, 0, "Flaky", '"x"'), ev.orchestrator_completed(T0),
               ev.orchestrator_started(T0), ev.task_failed(T0, 0, failure_reason("Flaky"), "")]

    replay.replay(history)

    (timer,) = replay.scheduled.values()
    assert (timer.kind, timer.fire_at, timer.retry_of, timer.retry_last) == (EventType.TimerCreated, T0, 0, True)


# -- non-determinism of a timer ----------------------------------------------------------------------
def test_a_timer_where_history_has_an_activity_is_non_determinism_naming_both():
    def waits_first(context):
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=5))

    output = json.loads(replay_with(two_calls, waits_first).output)

    assert output == (
        "Orchestrator function 'O' failed: Non-Deterministic workflow detected: A previous execution of this "
        "orchestration scheduled an activity task with sequence number 0 named 'Hello', but the current "
        "orchestration replay instead produced a CreateTimerOrchestratorAction action with this sequence "
        "number. Was a change made to the orchestrator code after this instance had already started running?")


def test_a_timer_missing_on_replay_is_non_determinism_with_an_empty_name():
    """Timers have no name: the message names '' (DurableTask.Core's TimerCreatedEvent has none to give)."""
    def sleeps(context):
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=5))
        return "woke"

    def forgets(context):
        return "nothing scheduled"
        yield

    d = Driver(sleeps, activities=None)
    d.episode()
    d.fire(0)
    d.main = df.Orchestrator.create(forgets)

    output = json.loads(d.episode().output)

    assert output == (
        "Orchestrator function 'O' failed: Non-Deterministic workflow detected: A previous execution of this "
        "orchestration scheduled a timer task with sequence number 0 but the current replay execution hasn't "
        "(yet?) scheduled this task. Was a change made to the orchestrator code after this instance had "
        "already started running?")


def test_a_timer_replayed_with_another_fire_time_is_no_non_determinism():
    """The extension compares a timer by kind alone (its FireAt may move with current_utc_datetime)."""
    def sleeps(context):
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=5))
        return "woke"

    def sleeps_longer(context):
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=50))
        return "woke"

    d = Driver(sleeps, activities=None)
    d.episode()
    d.fire(0)
    d.main = df.Orchestrator.create(sleeps_longer)

    decision = d.episode()

    assert decision.status == RuntimeStatus.Completed and json.loads(decision.output) == "woke"


def test_a_task_any_whose_event_arrived_before_it_wins_at_once_and_the_code_runs_on():
    def races(context):
        yield context.call_activity("Hello", "first")
        winner = yield context.task_any([context.wait_for_external_event("Go"), context.call_activity("Hello", "y")])
        return (yield context.call_activity("Hello", str(winner.result)))

    d = Driver(races)
    d.episode()
    d.raise_event("Go", "early")
    d.episode()
    d.complete(0, "h")

    decision = d.episode()

    assert d.scheduled() == [(1, "TaskScheduled", "Hello"), (2, "TaskScheduled", "Hello")]
    assert decision.activities == [ScheduledActivity(1, "Hello", '"y"'), ScheduledActivity(2, "Hello", '"early"')]


def test_a_task_all_over_events_that_arrived_before_it_completes_at_once():
    def signals_and_waits(context):
        yield context.call_activity("Hello", "first")
        both = yield context.task_all([context.wait_for_external_event("Go"), context.wait_for_external_event("Go2")])
        return (yield context.call_activity("Hello", "|".join(both)))

    d = Driver(signals_and_waits)
    d.episode()
    d.raise_event("Go", "a")
    d.raise_event("Go2", "b")
    d.episode()
    d.complete(0, "h")

    assert d.episode().activities == [ScheduledActivity(1, "Hello", '"a|b"')]


def test_a_sub_orchestration_replaced_by_an_activity_is_non_determinism_naming_the_sub_orchestration():
    def calls_child(context):
        yield context.call_sub_orchestrator("Child", "x")

    def calls_activity(context):
        yield context.call_activity("Hello", "x")

    d = Driver(calls_child, activities=None)
    d.episode()
    d.send(ev.sub_orchestration_completed(d.now, 0, '"done"'))
    d.main = df.Orchestrator.create(calls_activity)

    assert json.loads(d.episode().output) == (
        "Orchestrator function 'O' failed: Non-Deterministic workflow detected: A previous execution of this "
        "orchestration scheduled a sub-orchestration task with sequence ID 0 and name 'Child' (version '', "
        "instance ID 'exec-1:0'), but the current orchestration replay instead produced a "
        "ScheduleTaskOrchestratorAction action at this sequence number. Was a change made to the orchestrator "
        "code after this instance had already started running?")


def test_a_signal_replaced_by_an_activity_is_non_determinism_naming_the_event():
    def signals(context):
        context.signal_entity(df.EntityId("Counter", "k1"), "add", 1)
        yield context.call_activity("Hello", "x")

    def calls_activity(context):
        yield context.call_activity("Hello", "x")
        yield context.call_activity("Hello", "y")

    d = Driver(signals, activities=None)
    d.episode()
    d.complete(1, "h")
    d.main = df.Orchestrator.create(calls_activity)

    assert json.loads(d.episode().output) == (
        "Orchestrator function 'O' failed: Non-Deterministic workflow detected: A previous execution of this "
        "orchestration scheduled a send event task with sequence ID 0, type 'EventSent', name 'op', instance "
        "ID '@counter@k1', but the current orchestration replay instead scheduled a "
        "ScheduleTaskOrchestratorAction task at this sequence number. Was a change made to the orchestrator "
        "code after this instance had already started running?")


# -- each action waits for the one before it: only a retry's timers show it, as they take ids in between ----------
def test_an_activity_after_a_retried_one_takes_the_id_after_its_timers():
    def retry_then_hello(context):
        yield context.call_activity_with_retry("Flaky", df.RetryOptions(1000, 2), "x")
        return (yield context.call_activity("Hello", "after"))

    d = Driver(retry_then_hello, activities=frozenset({"Flaky", "Hello"}))
    d.episode()
    d.fail(0, failure_reason("Flaky"))
    d.episode()
    d.fire(1)
    d.episode()
    d.complete(2, "ok")

    decision = d.episode()

    assert d.scheduled() == [(3, "TaskScheduled", "Hello")] and decision.status == RuntimeStatus.Running


def retry_or_go(context):
    yield context.task_any([context.call_activity_with_retry("Flaky", df.RetryOptions(1000, 2), "x"),
                            context.wait_for_external_event("Go")])
    return (yield context.call_activity("Hello", "after"))


def test_a_wait_ends_when_its_event_comes_not_before():
    d = Driver(retry_or_go, activities=frozenset({"Flaky", "Hello"}))
    d.episode()
    d.fail(0, failure_reason("Flaky"))
    d.episode()
    assert d.scheduled() == [(1, "TimerCreated", history_timestamp(d.now + timedelta(seconds=1)))]
    d.raise_event("Go", 1)

    decision = d.episode()

    assert d.scheduled() == [(2, "TaskScheduled", "Hello")] and decision.status == RuntimeStatus.Running


def test_an_event_that_came_early_ends_one_wait_only():
    def go_twice(context):
        yield context.call_activity("Hello", "x")
        yield context.wait_for_external_event("Go")
        return (yield from retry_or_go(context))

    d = Driver(go_twice, activities=frozenset({"Flaky", "Hello"}))
    d.episode()
    d.raise_event("Go", 1)
    d.episode()
    d.complete(0, "hx")
    d.episode()
    d.fail(1, failure_reason("Flaky"))
    d.episode()
    d.raise_event("Go", 2)

    d.episode()

    assert d.scheduled() == [(3, "TaskScheduled", "Hello")]


def test_two_events_that_came_early_end_two_waits():
    def two_waits(context):
        yield context.call_activity("Hello", "x")
        first = yield context.wait_for_external_event("Go")
        second = yield context.wait_for_external_event("Go")
        return (yield context.call_activity("Hello", first + second))

    d = Driver(two_waits)
    d.episode()
    d.raise_event("Go", "a")
    d.raise_event("Go", "b")
    d.episode()
    d.complete(0, "hx")

    d.episode()

    # (the SDK 1.7 hands both waits the last of the events that came before them: "bb"; devhost only counts them)
    assert d.scheduled() == [(1, "TaskScheduled", "Hello")]


def test_a_task_all_with_an_early_event_still_waits_for_its_retried_call():
    def all_of(context):
        yield context.call_activity("Hello", "x")
        yield context.task_all([context.wait_for_external_event("Go"),
                                context.call_activity_with_retry("Flaky", df.RetryOptions(1000, 2), "x")])
        return (yield context.call_activity("Hello", "after"))

    d = Driver(all_of, activities=frozenset({"Flaky", "Hello"}))
    d.episode()
    d.raise_event("Go", 1)
    d.episode()
    d.complete(0, "hx")
    d.episode()
    d.fail(1, failure_reason("Flaky"))
    d.episode()
    d.fire(2)
    d.episode()
    d.complete(3, "ok")

    d.episode()

    assert d.scheduled() == [(4, "TaskScheduled", "Hello")]


def test_an_event_that_came_before_its_wait_lets_the_code_run_on():
    def early_then_more(context):
        yield context.call_activity("Hello", "x")
        go = yield context.wait_for_external_event("Go")
        return (yield context.call_activity("Hello", go))

    d = Driver(early_then_more)
    d.episode()
    d.raise_event("Go", "early")
    d.episode()
    d.complete(0, "hx")

    assert d.episode().activities == [ScheduledActivity(1, "Hello", '"early"')]


@pytest.mark.parametrize(("options", "first_delay"), [
    ({"maxNumberOfAttempts": 2}, timedelta(0)),
    ({"firstRetryIntervalInMilliseconds": 500, "maxNumberOfAttempts": 2}, timedelta(milliseconds=500)),
    ({"firstRetryIntervalInMilliseconds": -5, "maxNumberOfAttempts": 2}, timedelta(0))], ids=["none", "half", "neg"])
def test_a_retry_timer_waits_the_first_interval_given(options, first_delay):
    action = {"actionType": 1, "functionName": "Flaky", "input": '"x"', "retryOptions": options}
    replay = ActionReplay("exec-1", [action], T0)
    history = [ev.orchestrator_started(T0), ev.execution_started(T0, "i", "exec-1", "O", None),
               ev.task_scheduled(T0, 0, "Flaky", '"x"'), ev.orchestrator_completed(T0),
               ev.orchestrator_started(T0), ev.task_failed(T0, 0, failure_reason("Flaky"), "")]

    replay.replay(history)

    (timer,) = replay.scheduled.values()
    assert (timer.fire_at, timer.retry_last) == (T0 + first_delay, False)


def test_a_retried_call_that_succeeds_lets_its_task_all_wait_for_the_other():
    def both(context):
        yield context.task_all([context.call_activity_with_retry("Flaky", df.RetryOptions(1000, 2), "a"),
                                context.call_activity_with_retry("Flaky", df.RetryOptions(1000, 2), "b")])
        return (yield context.call_activity("Hello", "after"))

    d = Driver(both, activities=frozenset({"Flaky", "Hello"}))
    d.episode()
    d.complete(0, "a")
    d.fail(1, failure_reason("Flaky"))
    d.episode()
    d.fire(2)
    d.episode()
    d.complete(3, "b")

    d.episode()

    assert d.scheduled() == [(4, "TaskScheduled", "Hello")]


def test_a_long_retry_interval_is_cut_to_six_days():
    action = {"actionType": 1, "functionName": "Flaky", "input": '"x"',
              "retryOptions": {"firstRetryIntervalInMilliseconds": 7 * 86400 * 1000, "maxNumberOfAttempts": 2}}
    replay = ActionReplay("exec-1", [action], T0)

    replay.replay([ev.orchestrator_started(T0), ev.execution_started(T0, "i", "exec-1", "O", None),
                   ev.task_scheduled(T0, 0, "Flaky", '"x"'), ev.orchestrator_completed(T0),
                   ev.orchestrator_started(T0), ev.task_failed(T0, 0, failure_reason("Flaky"), "")])

    (timer,) = replay.scheduled.values()
    assert timer.fire_at == T0 + timedelta(days=6)


def test_a_retry_timer_where_history_has_an_activity_is_non_determinism_naming_the_timer():
    def falls_back(context):
        try:
            yield context.call_activity("Flaky", "x")
        except Exception:
            yield context.call_activity("Hello", "fallback")

    def retries(context):
        yield context.call_activity_with_retry("Flaky", df.RetryOptions(1000, 2), "x")

    d = Driver(falls_back, activities=None)
    d.episode()
    d.fail(0, failure_reason("Flaky"))
    d.episode()
    d.complete(1, "h")
    d.main = df.Orchestrator.create(retries)

    assert json.loads(d.episode().output) == (
        "Orchestrator function 'O' failed: Non-Deterministic workflow detected: A previous execution of this "
        "orchestration scheduled an activity task with sequence number 1 named 'Hello', but the current "
        "orchestration replay instead produced a CreateTimerOrchestratorAction action with this sequence "
        "number. Was a change made to the orchestrator code after this instance had already started running?")


def test_a_retried_call_that_gives_up_fails_its_task_all_at_once():
    def gives_up(context):
        try:
            yield context.task_all([context.call_activity_with_retry("Flaky", df.RetryOptions(1000, 1), "x"),
                                    context.call_activity("Hello", "slow")])
        except Exception:
            pass
        return (yield context.call_activity("Hello", "after"))

    d = Driver(gives_up, activities=frozenset({"Flaky", "Hello"}))
    d.episode()
    d.fail(0, failure_reason("Flaky"))
    d.episode()
    d.fire(2)

    d.episode()

    assert d.scheduled() == [(3, "TaskScheduled", "Hello")]


def test_entity_requests_carry_exactly_what_the_entity_and_the_answer_need():
    def uses_counter(context):
        entity = df.EntityId("Counter", "k1")
        context.signal_entity(entity, "add", 5)
        return (yield context.call_entity(entity, "get"))

    decision = Driver(uses_counter).episode()

    signal, call = (json.loads(m.event["Input"]) for m in decision.messages)
    assert signal == {"id": signal["id"], "op": "add", "signal": True, "input": "5", "parent": None, "fireAt": None}
    assert call == {"id": call["id"], "op": "get", "signal": False, "input": "null", "parent": "inst-1",
                    "fireAt": None, "parentExecution": "exec-1"}
    assert [m.visible_at for m in decision.messages] == [0.0, 0.0]


def test_a_scheduled_signal_goes_out_at_its_time():
    """ScheduledSignalEntity (an SDK that signals at a time: the Python SDK 1.7 has none)."""
    at = "2024-05-01T12:00:05.000000Z"
    action = {"actionType": 10, "instanceId": "@counter@k1", "operation": "add", "input": "1", "fireAt": at}
    replay = ActionReplay("exec-1", [action], T0)

    replay.replay([ev.orchestrator_started(T0), ev.execution_started(T0, "i", "exec-1", "O", None)])

    (item,) = replay.scheduled.values()
    assert (item.kind, item.instance_id, item.fire_at) == (EventType.EventSent, "@counter@k1",
                                                           T0 + timedelta(seconds=5))
    assert json.loads(item.input)["fireAt"] == at and replay.open_ids == set()


def test_a_retry_timer_is_due_after_the_episode_that_saw_the_failure():
    action = {"actionType": 1, "functionName": "Flaky", "input": '"x"',
              "retryOptions": {"firstRetryIntervalInMilliseconds": 1000, "maxNumberOfAttempts": 2}}
    replay = ActionReplay("exec-1", [action], T0)
    later = T0 + timedelta(seconds=10)

    replay.replay([ev.orchestrator_started(T0), ev.execution_started(T0, "i", "exec-1", "O", None),
                   ev.task_scheduled(T0, 0, "Flaky", '"x"'), ev.orchestrator_completed(T0),
                   ev.orchestrator_started(later), ev.task_failed(later, 0, failure_reason("Flaky"), "")])

    (timer,) = replay.scheduled.values()
    assert timer.fire_at == later + timedelta(seconds=1)


def test_an_unknown_action_type_fails_the_orchestration():
    d = Driver(hello_chain)
    episode = engine.prepare("inst-1", "exec-1", "O", RuntimeStatus.Pending, [], d.inbox, T0)

    decision = engine.decide(episode, {"isDone": False, "actions": [[{"actionType": 99}]]}, None, None)

    assert decision.status == RuntimeStatus.Failed
    assert json.loads(decision.output) == \
        "Orchestrator function 'O' failed: Non-Deterministic workflow detected: unknown actionType 99"


@pytest.mark.parametrize("first", ["timer", "event", "any"])
def test_a_task_all_with_a_timer_or_an_event_that_came_still_waits_for_its_retried_call(first):
    def all_of(context):
        waited = context.create_timer(context.current_utc_datetime + timedelta(seconds=1)) if first != "event" \
            else context.wait_for_external_event("Go")
        if first == "any":
            waited = context.task_any([waited])
        yield context.task_all([waited, context.call_activity_with_retry("Flaky", df.RetryOptions(1000, 2), "x")])
        return (yield context.call_activity("Hello", "after"))

    d = Driver(all_of, activities=frozenset({"Flaky", "Hello"}))
    d.episode()
    flaky = 0 if first == "event" else 1
    if first != "event":
        d.fire(0)
    else:
        d.raise_event("Go", 1)
    d.episode()
    d.fail(flaky, failure_reason("Flaky"))
    d.episode()
    d.fire(flaky + 1)
    d.episode()
    d.complete(flaky + 2, "ok")

    d.episode()

    assert d.scheduled() == [(flaky + 3, "TaskScheduled", "Hello")]


def test_an_activity_named_op_is_matched_by_its_name():
    def calls_op(context):
        yield context.call_activity("op", "a")

    def calls_hello(context):
        yield context.call_activity("Hello", "a")

    output = json.loads(replay_with(calls_op, calls_hello).output)

    assert "scheduled an activity task with sequence number 0 named 'op', but the current orchestration " \
           "replay instead scheduled an activity task named 'Hello'" in output


@pytest.mark.parametrize("kind", [11, 12], ids=["WhenAny", "WhenAll"])
def test_a_task_any_or_all_of_no_tasks_is_done_at_once(kind):
    actions = [{"actionType": kind, "compoundActions": []}, {"actionType": 0, "functionName": "Hello", "input": "1"}]
    replay = ActionReplay("exec-1", actions, T0)

    replay.replay([ev.orchestrator_started(T0), ev.execution_started(T0, "i", "exec-1", "O", None)])

    assert [(i, s.name) for i, s in replay.scheduled.items()] == [(0, "Hello")]


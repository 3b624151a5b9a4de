"""devhost.engine: prepare/decide as pure functions over realistic histories. The OrchestratorStates come from real
SDK orchestrators (df.Orchestrator.create) run on Episode.context_json, episode by episode (orchestration_driver),
so each test replays what the extension and the SDK would exchange (PROTOCOL §4)."""
from __future__ import annotations

import json
from datetime import timedelta

import azure.durable_functions as df
import pytest

from devhost import engine
from devhost import events as ev
from devhost.model import EventType, RuntimeStatus, history_timestamp
from devhost.operations import orchestrator_input

from orchestration_driver import T0, Driver

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:Potential duplicate Task completion")

CITIES = ["Tokyo", "Seattle", "London"]


def hello_chain(context: df.DurableOrchestrationContext):
    results = []
    for city in CITIES:
        results.append((yield context.call_activity("Hello", city)))
    return results


def wait_for_go(context: df.DurableOrchestrationContext):
    return (yield context.wait_for_external_event("Go"))


def failure_reason(name: str = "Hello", error: str = "ValueError: no") -> str:
    return f"Activity function '{name}' failed: {error}"


# -- the context JSON -------------------------------------------------------------------------------
def test_context_json_has_the_keys_and_played_flags_of_protocol_4_1():
    old = [ev.orchestrator_started(T0), ev.execution_started(T0, "i", "e", "O", '"x"'),
           ev.task_scheduled(T0, 0, "Hello", '"x"'), ev.orchestrator_completed(T0)]
    episode = engine.prepare("i", "e", "O", RuntimeStatus.Running, old, [(7, ev.task_completed(T0, 0, '"r"'))],
                             T0 + timedelta(seconds=1))

    context = json.loads(episode.context_json({"a": 1}, "parent-1"))

    assert context == {"history": context["history"], "input": {"a": 1}, "instanceId": "i", "isReplaying": True,
                       "parentInstanceId": "parent-1", "upperSchemaVersion": 1, "upperSchemaVersionNew": 2,
                       "longRunningTimerIntervalDuration": "3.00:00:00", "maximumShortTimerDuration": "6.00:00:00",
                       "defaultHttpAsyncRequestSleepTimeMillseconds": 30000}
    assert [e["IsPlayed"] for e in context["history"]] == [True, True, True, True, False, False]
    assert [e["EventType"] for e in context["history"]] == [12, 0, 4, 13, 12, 5]
    assert context["history"][4]["Timestamp"] == "2024-05-01T12:00:01.000000Z"


def test_the_first_episode_is_not_replaying():
    episode = engine.prepare("i", "e", "O", RuntimeStatus.Pending, [],
                             [(1, ev.execution_started(T0, "i", "e", "O", None))], T0)

    context = json.loads(episode.context_json(None, None))

    assert context["isReplaying"] is False
    assert [e["EventType"] for e in context["history"]] == [EventType.OrchestratorStarted, EventType.ExecutionStarted]


# -- prepare: sorting the inbox -------------------------------------------------------------------
def test_prepare_consumes_the_inbox_in_order_after_an_orchestrator_started():
    messages = [(3, ev.execution_started(T0, "i", "e", "O", None)), (4, ev.event_raised(T0, "a", "1"))]

    episode = engine.prepare("i", "e", "O", RuntimeStatus.Pending, [], messages, T0)

    assert episode.consumed == [3, 4]
    assert [e["EventType"] for e in episode.new_events] == [EventType.OrchestratorStarted, EventType.ExecutionStarted,
                                                            EventType.EventRaised]
    assert episode.run_code and episode.status_after_messages == RuntimeStatus.Running


def test_prepare_drops_a_duplicate_start_of_a_running_execution():
    history = [ev.orchestrator_started(T0), ev.execution_started(T0, "i", "e", "O", None)]

    episode = engine.prepare("i", "e", "O", RuntimeStatus.Running, history,
                             [(5, ev.execution_started(T0, "i", "e", "O", None))], T0)

    assert episode.consumed == [5] and not episode.run_code
    assert [e["EventType"] for e in episode.new_events] == [EventType.OrchestratorStarted]


def test_events_for_an_instance_not_yet_started_do_not_run_code():
    episode = engine.prepare("i", "e", "O", RuntimeStatus.Pending, [], [(1, ev.event_raised(T0, "a", None))], T0)

    assert not episode.run_code and episode.status_after_messages == RuntimeStatus.Pending


def test_prepare_holds_everything_but_resume_and_terminate_while_suspended():
    history = [ev.orchestrator_started(T0), ev.execution_started(T0, "i", "e", "O", None),
               ev.execution_suspended(T0, None)]

    held = engine.prepare("i", "e", "O", RuntimeStatus.Suspended, history,
                          [(1, ev.event_raised(T0, "a", None)), (2, ev.task_completed(T0, 0, "1"))], T0)
    resumed = engine.prepare("i", "e", "O", RuntimeStatus.Suspended, history,
                             [(1, ev.event_raised(T0, "a", None)), (2, ev.execution_resumed(T0, "r"))], T0)

    assert held.consumed == [] and not held.run_code
    assert held.status_after_messages == RuntimeStatus.Suspended
    assert resumed.consumed == [2, 1] and resumed.run_code
    assert [e["EventType"] for e in resumed.new_events] == [EventType.OrchestratorStarted, EventType.ExecutionResumed,
                                                            EventType.EventRaised]


def test_prepare_stops_at_a_terminate():
    messages = [(1, ev.execution_terminated(T0, "stop")), (2, ev.event_raised(T0, "a", None))]

    episode = engine.prepare("i", "e", "O", RuntimeStatus.Running, [ev.orchestrator_started(T0)], messages, T0)

    assert episode.consumed == [1] and episode.terminated_reason == "stop" and not episode.run_code
    assert episode.status_after_messages == RuntimeStatus.Terminated


# -- the Hello chain --------------------------------------------------------------------------------
def test_hello_chain_episode_by_episode():
    d = Driver(hello_chain)

    first = d.episode()
    assert d.state == {"isDone": False, "schemaVersion": 2, "actions": [[
        {"actionType": 0, "functionName": "Hello", "input": '"Tokyo"'}]]}
    assert first.status == RuntimeStatus.Running
    assert first.activities == [(0, "Hello", '"Tokyo"')]
    assert d.kinds(first.history) == ["OrchestratorStarted", "ExecutionStarted", "TaskScheduled",
                                      "OrchestratorCompleted"]
    assert first.history[2] == {"EventType": 4, "EventId": 0, "IsPlayed": False,
                                "Timestamp": "2024-05-01T12:00:01.000000Z", "Name": "Hello", "Version": "",
                                "Input": '"Tokyo"'}

    for task_id, city in enumerate(CITIES[1:]):
        d.complete(task_id, f"Hello {CITIES[task_id]}!")
        decision = d.episode()
        assert decision.activities == [(task_id + 1, "Hello", json.dumps(city))]
        assert d.kinds(decision.history) == ["OrchestratorStarted", "TaskCompleted", "TaskScheduled",
                                             "OrchestratorCompleted"]

    d.complete(2, "Hello London!")
    last = d.episode()
    assert last.status == RuntimeStatus.Completed
    assert json.loads(last.output) == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    assert last.activities == [] and last.messages == []
    assert d.kinds(last.history) == ["OrchestratorStarted", "TaskCompleted", "ExecutionCompleted",
                                     "OrchestratorCompleted"]
    assert last.history[2]["OrchestrationStatus"] == "Completed"
    assert [e["TaskScheduledId"] for e in d.history if e["EventType"] == EventType.TaskCompleted] == [0, 1, 2]
    assert all(e["EventId"] == -1 for e in d.history if e["EventType"] != EventType.TaskScheduled)


def test_an_episode_without_news_for_the_code_only_closes():
    d = Driver(hello_chain)
    d.episode()
    d.send(ev.event_raised(d.now, "nobody-waits", None))

    decision = d.episode()

    assert d.kinds(decision.history) == ["OrchestratorStarted", "EventRaised", "OrchestratorCompleted"]
    assert decision.activities == [] and decision.status == RuntimeStatus.Running


def test_decide_is_a_pure_function_of_its_inputs():
    d = Driver(hello_chain)
    d.episode()
    d.complete(0, "Hello Tokyo!")
    d.episode()
    episode, state = d.episodes[-1], d.states[-1]

    assert engine.decide(episode, state, None, None, frozenset({"Hello"})) == \
        engine.decide(episode, state, None, None, frozenset({"Hello"})) == d.decisions[-1]


# -- fan-out / fan-in -------------------------------------------------------------------------------
def fan_out(context: df.DurableOrchestrationContext):
    tasks = [context.call_activity("Hello", city) for city in CITIES]
    return (yield context.task_all(tasks))


def test_task_all_schedules_every_activity_in_one_episode():
    d = Driver(fan_out)

    decision = d.episode()

    assert d.state["actions"] == [[{"actionType": 12, "compoundActions": [
        {"actionType": 0, "functionName": "Hello", "input": json.dumps(c)} for c in CITIES]}]]
    assert decision.activities == [(i, "Hello", json.dumps(c)) for i, c in enumerate(CITIES)]


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
    assert failed.status == RuntimeStatus.Running  # activities 0 and 2 are still open (PROTOCOL §4.3)

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
    assert first.status == RuntimeStatus.Running  # activity 0 is still open (PROTOCOL §4.3)

    d.complete(0, "A")
    assert d.episode().status == RuntimeStatus.Completed
    assert json.loads(d.decisions[-1].output) == "B"


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
    assert d.episode().activities == [(2, "Hello", '"y"')]
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
    assert decision.messages == [] and decision.activities == [(1, "Hello", "null")]


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


# -- suspend, resume, terminate ---------------------------------------------------------------------
def test_suspend_holds_events_until_resume():
    d = Driver(wait_for_go)
    d.episode()
    d.send(ev.execution_suspended(d.now, "pause"))
    suspended = d.episode()
    assert suspended.status == RuntimeStatus.Suspended
    assert d.kinds(suspended.history) == ["OrchestratorStarted", "ExecutionSuspended", "OrchestratorCompleted"]

    d.raise_event("Go", 1)
    held = d.episode()
    assert held.status == RuntimeStatus.Suspended and len(d.inbox) == 1
    assert d.kinds(held.history) == ["OrchestratorStarted", "OrchestratorCompleted"]

    d.send(ev.execution_resumed(d.now, "go on"))
    resumed = d.episode()
    assert d.kinds(resumed.history) == ["OrchestratorStarted", "ExecutionResumed", "EventRaised",
                                        "ExecutionCompleted", "OrchestratorCompleted"]
    assert resumed.status == RuntimeStatus.Completed and d.inbox == []


def test_a_suspend_that_arrives_with_a_completion_leaves_the_instance_suspended():
    d = Driver(hello_chain)
    d.episode()
    d.complete(0, "Hello Tokyo!")
    d.send(ev.execution_suspended(d.now, "pause"))

    decision = d.episode()

    assert d.kinds(decision.history)[:3] == ["OrchestratorStarted", "TaskCompleted", "ExecutionSuspended"]
    assert decision.status == RuntimeStatus.Suspended  # so that resume is accepted and releases what is held

    d.complete(1, "Hello Seattle!")
    assert d.episode().status == RuntimeStatus.Suspended and len(d.inbox) == 1
    d.send(ev.execution_resumed(d.now, None))
    assert d.episode().status == RuntimeStatus.Running


def test_terminate_ends_a_running_instance_with_the_reason_as_output():
    d = Driver(wait_for_go)
    d.episode()
    d.send(ev.execution_terminated(d.now, "enough"))

    decision = d.episode()

    assert decision.status == RuntimeStatus.Terminated and json.loads(decision.output) == "enough"
    assert d.kinds(decision.history) == ["OrchestratorStarted", "ExecutionTerminated", "ExecutionCompleted",
                                         "OrchestratorCompleted"]
    assert decision.history[2]["OrchestrationStatus"] == "Terminated"


def test_terminate_reaches_a_suspended_instance():
    d = Driver(wait_for_go)
    d.episode()
    d.send(ev.execution_suspended(d.now, None))
    d.episode()
    d.raise_event("Go", 1)
    d.send(ev.execution_terminated(d.now, "stop"))

    assert d.episode().status == RuntimeStatus.Terminated


def test_terminate_of_an_instance_that_never_ran():
    d = Driver(hello_chain)
    d.send(ev.execution_terminated(d.now, None))

    decision = d.episode()

    assert decision.status == RuntimeStatus.Terminated and decision.activities == []


# -- continue_as_new --------------------------------------------------------------------------------
def counter(context):
    n = context.get_input()
    yield context.call_activity("Hello", n)
    if n < 2:
        context.continue_as_new(n + 1)
        return None
    return n


def test_continue_as_new_ends_the_execution_and_starts_a_fresh_one():
    d = Driver(counter, input_=0)
    d.episode()
    d.complete(0, "x")

    decision = d.episode()

    assert decision.status == RuntimeStatus.ContinuedAsNew and decision.continue_as_new is not None
    assert d.state["actions"][0][-1] == {"actionType": 4, "input": "1"}
    assert decision.history[-2]["OrchestrationStatus"] == "ContinuedAsNew"
    assert decision.activities == []
    assert d.history == [] and d.execution_id == "exec-1+"

    fresh = d.episode()  # the new execution starts from its ExecutionStarted with the new input
    assert d.kinds(fresh.history)[:2] == ["OrchestratorStarted", "ExecutionStarted"]
    assert fresh.activities == [(0, "Hello", "1")] and fresh.status == RuntimeStatus.Running


def test_continue_as_new_loops_without_history_growth_and_completes():
    d = Driver(counter, input_=0)
    sizes = []
    while d.status not in (RuntimeStatus.Completed, RuntimeStatus.Failed):
        d.episode()
        sizes.append(len(d.history))
        if d.decisions[-1].activities:
            d.complete(d.decisions[-1].activities[0][0], "x")

    assert json.loads(d.decisions[-1].output) == 2
    assert max(sizes) <= 8
    assert [d.status for d in d.decisions].count(RuntimeStatus.ContinuedAsNew) == 2


def test_work_scheduled_by_an_ending_execution_is_dropped():
    def fire_and_forget(context):
        context.call_activity("Hello", "never awaited")
        context.continue_as_new(None)
        return None
        yield

    d = Driver(fire_and_forget)

    decision = d.episode()

    assert decision.status == RuntimeStatus.ContinuedAsNew and decision.activities == []


# -- sub-orchestrations ----------------------------------------------------------------------------
def parent_orchestrator(context):
    first = yield context.call_sub_orchestrator("Child", {"n": 1})
    second = yield context.call_sub_orchestrator("Child", 2, "my-child")
    return [first, second]


def child_orchestrator(context):
    return (yield context.call_activity("Hello", context.get_input()))


def run_child(new_instance, result=None, error=None) -> Driver:
    """Run a child created by the parent's decision to its end; its last decision holds the reply."""
    child = Driver(child_orchestrator, name=new_instance.name, instance_id=new_instance.instance_id,
                   execution_id=new_instance.execution_id, parent=new_instance.started["ParentInstance"])
    child.inbox = [(1, new_instance.started)]
    child.input = new_instance.input
    child.episode()
    if error:
        child.fail(0, error)
    else:
        child.complete(0, result)
    child.episode()
    return child


def test_a_sub_orchestration_gets_the_default_child_id_and_its_parent():
    d = Driver(parent_orchestrator)

    decision = d.episode()

    assert d.scheduled() == [(0, "SubOrchestrationInstanceCreated", "Child")]
    (child,) = decision.new_instances
    assert child.instance_id == "exec-1:0" == decision.history[2]["InstanceId"]
    assert (child.name, child.parent_instance_id) == ("Child", "inst-1")
    assert orchestrator_input(child.input) == '{"n": 1}'  # what the child's get_input decodes
    assert child.started["EventType"] == EventType.ExecutionStarted
    assert child.started["OrchestrationInstance"] == {"InstanceId": "exec-1:0", "ExecutionId": child.execution_id}
    assert child.started["ParentInstance"] == {"Name": "O", "Version": "", "TaskScheduleId": 0,
                                               "OrchestrationInstance": {"InstanceId": "inst-1",
                                                                         "ExecutionId": "exec-1"}}


def test_a_finished_child_replies_to_its_parent_execution():
    d = Driver(parent_orchestrator)
    (child_instance,) = d.episode().new_instances

    child = run_child(child_instance, result="R")

    assert child.decisions[0].activities == [(0, "Hello", '{"n": 1}')]  # the child got the parent's input
    done = child.decisions[-1]
    assert done.status == RuntimeStatus.Completed
    (reply,) = done.messages
    assert reply.instance_id == "inst-1"
    assert reply.event["EventType"] == EventType.SubOrchestrationInstanceCompleted
    assert (reply.event["TaskScheduledId"], reply.event["Result"], reply.event["ExecutionId"]) == (0, '"R"', "exec-1")
    assert json.loads(child.episodes[0].context_json(None, "inst-1"))["parentInstanceId"] == "inst-1"


def test_the_parent_continues_with_the_childs_result_and_an_explicit_child_id():
    d = Driver(parent_orchestrator)
    (first,) = d.episode().new_instances
    d.send(run_child(first, result="R").decisions[-1].messages[0].event)

    decision = d.episode()

    assert [(n.instance_id, orchestrator_input(n.input)) for n in decision.new_instances] == [("my-child", "2")]
    assert d.scheduled() == [(1, "SubOrchestrationInstanceCreated", "Child")]
    d.send(ev.sub_orchestration_completed(d.now, 1, '"S"'))
    assert json.loads(d.episode().output) == ["R", "S"]


def test_a_failed_child_fails_its_parent_with_the_childs_message():
    d = Driver(parent_orchestrator)
    (first,) = d.episode().new_instances
    child = run_child(first, error=failure_reason())

    (reply,) = child.decisions[-1].messages
    assert reply.event["EventType"] == EventType.SubOrchestrationInstanceFailed
    assert reply.event["Reason"].startswith("Orchestrator function 'Child' failed: Activity function 'Hello' failed")
    d.send(reply.event)
    decision = d.episode()
    assert decision.status == RuntimeStatus.Failed
    assert json.loads(decision.output).startswith(
        "Orchestrator function 'O' failed: Orchestrator function 'Child' failed: Activity function 'Hello' failed")


def test_a_terminated_child_tells_its_parent():
    d = Driver(parent_orchestrator)
    (first,) = d.episode().new_instances
    child = Driver(child_orchestrator, name="Child", instance_id=first.instance_id, execution_id=first.execution_id,
                   parent=first.started["ParentInstance"])
    child.episode()
    child.send(ev.execution_terminated(child.now, "stop"))

    (reply,) = child.episode().messages

    assert reply.event["EventType"] == EventType.SubOrchestrationInstanceFailed
    assert reply.event["TaskScheduledId"] == 0 and "stop" in reply.event["Reason"]


def test_sub_orchestration_retries_take_new_ids_and_new_children():
    def retries_child(context):
        try:
            return (yield context.call_sub_orchestrator_with_retry("Child", df.RetryOptions(1000, 2), "x"))
        except Exception:
            return "gave up"

    d = Driver(retries_child)
    assert [n.instance_id for n in d.episode().new_instances] == ["exec-1:0"]
    d.send(ev.sub_orchestration_failed(d.now, 0, "Orchestrator function 'Child' failed: no", ""))
    d.episode()
    assert d.scheduled() == [(1, "TimerCreated", history_timestamp(d.now + timedelta(seconds=1)))]
    d.fire(1)
    assert [n.instance_id for n in d.episode().new_instances] == ["exec-1:2"]
    d.send(ev.sub_orchestration_failed(d.now, 2, "Orchestrator function 'Child' failed: no", ""))
    d.episode()
    d.fire(3)

    assert json.loads(d.episode().output) == "gave up"


# -- failures -------------------------------------------------------------------------------------
def test_an_activity_failure_is_catchable():
    def catches(context):
        try:
            yield context.call_activity("Hello", "x")
        except Exception as exc:
            return str(exc)

    d = Driver(catches)
    d.episode()
    d.fail(0, failure_reason(), "Traceback: line 1")

    decision = d.episode()

    assert decision.status == RuntimeStatus.Completed
    assert json.loads(decision.output) == "Activity function 'Hello' failed: ValueError: no \n Traceback: line 1"


def test_an_uncaught_activity_failure_fails_the_orchestration():
    d = Driver(hello_chain)
    d.episode()
    d.fail(0, failure_reason())

    decision = d.episode()

    assert decision.status == RuntimeStatus.Failed
    assert json.loads(decision.output) == "Orchestrator function 'O' failed: Activity function 'Hello' failed: " \
                                          "ValueError: no \n "
    assert decision.history[-2]["OrchestrationStatus"] == "Failed"


def test_an_uncaught_orchestrator_exception_fails_with_the_out_of_proc_error():
    def raises(context):
        yield context.call_activity("Hello", "x")
        raise ValueError("kaput")

    d = Driver(raises)
    d.episode()
    d.complete(0, "x")

    decision = d.episode()

    assert d.state["error"] == "kaput" and d.state["isDone"] is False  # the state after $OutOfProcData$
    assert decision.status == RuntimeStatus.Failed
    assert json.loads(decision.output) == "Orchestrator function 'O' failed: kaput"
    assert decision.activities == []


def test_failure_details_splits_the_sdk_exception_text():
    state = {"isDone": False, "schemaVersion": 2, "actions": [[]], "error": "kaput"}

    assert engine.failure_details(f"kaput\n\n$OutOfProcData$:{json.dumps(state)}") == ("kaput", state)
    assert engine.failure_details("plain failure") == ("plain failure", None)
    assert engine.failure_details("broken\n\n$OutOfProcData$:{not json") == ("broken\n\n$OutOfProcData$:{not json",
                                                                              None)


def test_an_unknown_activity_fails_the_orchestration_with_the_hosts_message():
    def calls_nope(context):
        return (yield context.call_activity("Nope", 1))

    d = Driver(calls_nope, activities=frozenset({"Hello", "Bye"}))

    decision = d.episode()

    assert decision.status == RuntimeStatus.Failed and decision.activities == []
    assert json.loads(decision.output) == (
        "Orchestrator function 'O' failed: The function 'Nope' doesn't exist, is disabled, or is not an activity "
        "function. Additional info: The following are the known activity functions: 'Bye', 'Hello'.")
    assert "TaskScheduled" not in d.kinds()


def test_a_state_without_actions_is_a_failure():
    d = Driver(hello_chain)
    episode = engine.prepare("inst-1", "exec-1", "O", RuntimeStatus.Pending, [], d.inbox, T0)

    decision = engine.decide(episode, {"not": "an orchestrator state"}, None, None)

    assert decision.status == RuntimeStatus.Failed
    assert "df.Orchestrator.create" in json.loads(decision.output)


# -- non-determinism -----------------------------------------------------------------------------
def replay_with(original, changed, completions=1) -> engine.Decision:
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
        "orchestration scheduled an activity task with sequence ID 0 and name 'Hello', but the current replay "
        "execution scheduled an activity task with name 'Other' at that sequence ID. Was a change made to the "
        "orchestrator code after this instance had already started running?")


def test_a_missing_action_is_non_determinism_naming_the_event_id():
    def forgets(context):
        return "nothing scheduled"
        yield

    output = json.loads(replay_with(two_calls, forgets).output)

    assert "scheduled an activity task with sequence ID 0 and name 'Hello', but the current replay execution " \
           "hasn't (yet?) scheduled this task" in output


def test_a_different_kind_of_task_is_non_determinism():
    def timer_instead(context):
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=5))

    output = json.loads(replay_with(two_calls, timer_instead).output)

    assert "sequence ID 0 and name 'Hello'" in output and "scheduled a durable timer" in output


def test_an_unchanged_replay_is_not_non_determinism():
    decision = replay_with(two_calls, two_calls)

    assert decision.status == RuntimeStatus.Running and decision.activities == [(1, "Hello", '"b"')]


# -- what the SDK reads from the history ------------------------------------------------------------
def test_custom_status_current_time_and_new_uuid_come_from_history():
    def observer(context):
        first_time, uid = context.current_utc_datetime, context.new_uuid()
        context.set_custom_status({"uid": uid, "replaying": context.is_replaying})
        yield context.call_activity("Hello", "x")
        return [first_time.isoformat(), context.current_utc_datetime.isoformat(), uid]

    d = Driver(observer)
    first = d.episode()
    d.complete(0, "x")
    last = d.episode(seconds=5)

    started, later, uid = json.loads(last.output)
    assert started == (T0 + timedelta(seconds=1)).isoformat()  # the first episode's OrchestratorStarted
    assert later == (T0 + timedelta(seconds=6)).isoformat()
    assert first.custom_status == {"uid": uid, "replaying": False}
    assert last.custom_status == {"uid": uid, "replaying": True}


def test_custom_status_is_unchanged_when_the_orchestrator_sets_none():
    d = Driver(hello_chain)

    assert d.episode().custom_status is engine.UNCHANGED


# -- entities and durable HTTP --------------------------------------------------------------------
def test_signal_and_call_entity_send_requests_and_the_answer_resumes_the_caller():
    def uses_counter(context):
        entity = df.EntityId("Counter", "k1")
        context.signal_entity(entity, "add", 5)
        return (yield context.call_entity(entity, "get"))

    d = Driver(uses_counter)
    decision = d.episode()

    assert d.scheduled() == [(0, "EventSent", "add"), (1, "EventSent", "get")]
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

    ((task_id, name, request),) = decision.activities
    assert (task_id, name) == (0, "BuiltIn::HttpActivity")
    assert json.loads(request)["uri"] == "http://localhost:9/ping"
    d.complete(0, {"statusCode": 204, "headers": {}, "content": ""})
    assert json.loads(d.episode().output) == 204

"""devhost.protocol.engine: prepare/decide as pure functions over realistic histories. The OrchestratorStates come from real
SDK orchestrators (df.Orchestrator.create) run on Episode.context_json, episode by episode (orchestration_driver),
so each test replays what the extension and the SDK would exchange (docs/protocol.md §4)."""
from __future__ import annotations

import json
from datetime import timedelta

import azure.durable_functions as df
import pytest
from orchestration_driver import CITIES, T0, Driver, failure_reason, hello_chain, wait_for_go

from devhost.model import EventType, OutgoingMessage, RuntimeStatus, ScheduledActivity, history_timestamp
from devhost.protocol import engine
from devhost.protocol import history_events as ev
from devhost.protocol.engine import orchestrator_input

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:Potential duplicate Task completion")


# -- the context JSON -------------------------------------------------------------------------------
def test_context_json_has_the_keys_and_played_flags_of_protocol_4_1():
    old = [ev.orchestrator_started(T0), ev.execution_started(T0, "i", "e", "O", '"x"'),
           ev.task_scheduled(T0, 0, "Hello", '"x"'), ev.orchestrator_completed(T0)]
    episode = engine.prepare("i", "e", "O", RuntimeStatus.Running, old, [(7, ev.task_completed(T0, 0, '"r"'))],
                             T0 + timedelta(seconds=1))

    context = json.loads(episode.context_json('{"a": 1}', "parent-1"))

    assert context == {"history": context["history"], "input": {"a": 1}, "instanceId": "i", "isReplaying": True,
                       "parentInstanceId": "parent-1", "upperSchemaVersion": 1, "upperSchemaVersionNew": 2,
                       "longRunningTimerIntervalDuration": "3.00:00:00", "maximumShortTimerDuration": "6.00:00:00",
                       "defaultHttpAsyncRequestSleepTimeMillseconds": 30000}
    assert [e["IsPlayed"] for e in context["history"]] == [True, True, True, True, False, False]
    assert [e["EventType"] for e in context["history"]] == [12, 0, 4, 13, 12, 5]
    assert context["history"][4]["Timestamp"] == "2024-05-01T12:00:01.0000000Z"


def _stored(events: list[dict]) -> list[str]:
    """Each event's text as the store keeps it: played, compact separators."""
    return [json.dumps(dict(e, IsPlayed=True), separators=(",", ":")) for e in events]


def test_the_context_is_joined_from_the_stored_texts_of_old_events_without_encoding_them_again():
    old = [ev.orchestrator_started(T0), ev.execution_started(T0, "i", "e", "O", '"x"'),
           ev.task_scheduled(T0, 0, "Hello", '"x"'), ev.orchestrator_completed(T0)]
    texts = _stored(old)
    texts[2] = texts[2].replace('"Hello"', '"Hello" ')  # a mark only the stored text has: it is what goes out
    messages = [(7, ev.task_completed(T0, 0, '"r"'))]
    joined = engine.prepare("i", "e", "O", RuntimeStatus.Running, old, messages, T0, texts)
    encoded = engine.prepare("i", "e", "O", RuntimeStatus.Running, old, messages, T0)

    assert '"Hello" ' in joined.context_json('{"a": 1}', "p")
    assert json.loads(joined.context_json('{"a": 1}', "p")) == json.loads(encoded.context_json('{"a": 1}', "p"))


@pytest.mark.parametrize("case", ["not played", "retry timer", "played missing", "one text short"])
def test_stored_texts_that_are_not_what_the_context_needs_are_encoded_again(case):
    old = [ev.orchestrator_started(T0), ev.execution_started(T0, "i", "e", "O", None),
           ev.timer_created(T0, 0, history_timestamp(T0), retry_of=3, retry_last=True), ev.orchestrator_completed(T0)]
    texts = [json.dumps(e, separators=(",", ":")) for e in old]  # IsPlayed false, as a rewind may have stored them
    if case != "not played":
        texts = _stored(old)
    if case != "retry timer":
        old[2] = ev.timer_created(T0, 0, history_timestamp(T0))
        texts[2] = _stored([old[2]])[0]
    if case == "played missing":
        texts[0] = json.dumps({k: v for k, v in old[0].items() if k != "IsPlayed"})
    if case == "one text short":
        texts = texts[:-1]
    episode = engine.prepare("i", "e", "O", RuntimeStatus.Running, old, [(1, ev.event_raised(T0, "go", "1"))], T0,
                             texts)

    history = json.loads(episode.context_json(None, None))["history"]

    assert [e["IsPlayed"] for e in history] == [True, True, True, True, False, False]
    assert all(ev.RETRY_OF not in e and ev.RETRY_LAST not in e for e in history)


def test_the_sdk_reads_seven_digit_fractions_of_history_timestamps():
    """History timestamps carry 7 fractional digits, as the extension's do; the SDK (dateutil) reads them to the
    microsecond, so current_utc_datetime and a timer's fireAt keep their fraction through replay."""
    seen = []

    def nap(context: df.DurableOrchestrationContext):
        seen.append(context.current_utc_datetime)
        yield context.create_timer(context.current_utc_datetime + timedelta(seconds=1))

    start = T0 + timedelta(microseconds=123456)
    d = Driver(nap, start=start)
    d.episode(seconds=0)

    assert d.history[0]["Timestamp"] == "2024-05-01T12:00:00.1234560Z"
    assert seen[-1] == start
    assert d.scheduled() == [(0, "TimerCreated", "2024-05-01T12:00:01.1234560Z")]


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
    assert first.activities == [ScheduledActivity(0, "Hello", '"Tokyo"')]
    assert d.kinds(first.history) == ["OrchestratorStarted", "ExecutionStarted", "TaskScheduled",
                                      "OrchestratorCompleted"]
    assert first.history[2] == {"EventType": 4, "EventId": 0, "IsPlayed": False,
                                "Timestamp": "2024-05-01T12:00:01.0000000Z", "Name": "Hello", "Version": "",
                                "Input": '"Tokyo"'}

    for task_id, city in enumerate(CITIES[1:]):
        d.complete(task_id, f"Hello {CITIES[task_id]}!")
        decision = d.episode()
        assert decision.activities == [ScheduledActivity(task_id + 1, "Hello", json.dumps(city))]
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
    assert d.decisions[-1].activities == [ScheduledActivity(1, "Hello", '"Seattle"')]


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
    assert fresh.activities == [ScheduledActivity(0, "Hello", "1")] and fresh.status == RuntimeStatus.Running


def test_continue_as_new_loops_without_history_growth_and_completes():
    d = Driver(counter, input_=0)
    sizes = []
    while d.status not in (RuntimeStatus.Completed, RuntimeStatus.Failed):
        d.episode()
        sizes.append(len(d.history))
        if d.decisions[-1].activities:
            d.complete(d.decisions[-1].activities[0].task_id, "x")

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


def terminated_child(new_instance) -> OutgoingMessage:
    """Start a child created by the parent's decision, terminate it ("stop"): the reply it sends its parent."""
    child = Driver(child_orchestrator, name="Child", instance_id=new_instance.instance_id,
                   execution_id=new_instance.execution_id, parent=new_instance.started["ParentInstance"])
    child.episode()
    child.send(ev.execution_terminated(child.now, "stop"))
    (reply,) = child.episode().messages
    return reply


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

    # the child got the parent's input
    assert child.decisions[0].activities == [ScheduledActivity(0, "Hello", '{"n": 1}')]
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


def test_a_child_id_in_use_fails_that_task_only_through_the_parents_inbox():
    d = Driver(parent_orchestrator)
    (first,) = d.episode().new_instances
    d.send(run_child(first, result="R").decisions[-1].messages[0].event)
    decision = d.episode()

    refused = engine.decide(d.episodes[-1], d.state, None, None, None, lambda ids: {"my-child": RuntimeStatus.Running})

    assert refused.new_instances == [] and refused.history == decision.history
    (reply,) = refused.messages
    assert (reply.instance_id, reply.event["ExecutionId"]) == ("inst-1", "exec-1")
    assert reply.event["EventType"] == EventType.SubOrchestrationInstanceFailed and reply.event["TaskScheduledId"] == 1
    assert reply.event["Reason"] == "An Orchestration instance with the status Running already exists."
    d.send(reply.event)
    assert d.episode().status == RuntimeStatus.Failed


def twins_orchestrator(context):
    return (yield context.task_all([context.call_sub_orchestrator("Child", 1, "my-child"),
                                    context.call_sub_orchestrator("Child", 2, "my-child")]))


def test_a_finished_instance_with_the_child_id_is_replaced_and_a_second_child_with_one_id_is_refused():
    d = Driver(twins_orchestrator)
    d.child_statuses = {"my-child": RuntimeStatus.Completed}

    refused = d.episode()

    assert [(n.instance_id, orchestrator_input(n.input)) for n in refused.new_instances] == [("my-child", "1")]
    assert [m.event["Reason"] for m in refused.messages] == [
        "An Orchestration instance with the status Pending already exists."]


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
    reply = terminated_child(first)

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
    # the state's own error when it has one; else the text before the marker
    assert engine.failure_details(f"text\n\n$OutOfProcData$:{json.dumps(state)}") == ("kaput", state)
    quiet = {"isDone": False, "actions": []}
    assert engine.failure_details(f"the text\n\n$OutOfProcData$:{json.dumps(quiet)}") == ("the text", quiet)
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


def test_an_activity_named_in_another_case_is_the_same_activity():
    # the extension's FunctionName compares names with StringComparison.OrdinalIgnoreCase
    def calls_in_capitals(context):
        return (yield context.call_activity("HELLO", 1))

    d = Driver(calls_in_capitals, activities=frozenset({"Hello"}))

    decision = d.episode()

    assert decision.status == RuntimeStatus.Running
    assert decision.activities == [ScheduledActivity(0, "HELLO", "1")]


def test_a_state_without_actions_is_a_failure():
    d = Driver(hello_chain)
    episode = engine.prepare("inst-1", "exec-1", "O", RuntimeStatus.Pending, [], d.inbox, T0)

    decision = engine.decide(episode, {"not": "an orchestrator state"}, None, None)

    assert decision.status == RuntimeStatus.Failed
    assert json.loads(decision.output) == ("Orchestrator function 'O' failed: The orchestrator returned no "
                                           "OrchestratorState: is it created with df.Orchestrator.create?")


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
    assert json.loads(first.custom_status) == {"uid": uid, "replaying": False} and first.set_custom_status
    assert json.loads(last.custom_status) == {"uid": uid, "replaying": True}


def test_custom_status_is_unchanged_when_the_orchestrator_sets_none():
    d = Driver(hello_chain)

    outcome = d.episode()
    assert not outcome.set_custom_status and outcome.custom_status is None


def test_a_custom_status_over_16_kb_in_utf16_fails_the_orchestration_with_the_extensions_words():
    # MessagePayloadDataConverter.Serialize(value, 16): whole KB of the compact JSON's UTF-16 bytes, over 16 fails
    def chatty(context):
        context.set_custom_status(context.get_input())
        return (yield context.call_activity("Hello", "x"))

    fits = "é" * (17 * 512 - 3)  # with its quotes, 17 * 1024 - 2 UTF-16 bytes: 16 KB once truncated
    assert Driver(chatty, input_=fits).episode().status == RuntimeStatus.Running

    d = Driver(chatty, input_=fits + "é")
    decision = d.episode()

    assert decision.status == RuntimeStatus.Failed and decision.activities == []
    assert json.loads(decision.output) == ("Orchestrator function 'O' failed: The UTF-16 size of the JSON-serialized "
                                           "payload must not exceed 16 KB. The current payload size is 17 KB.")


def busy(context):
    """Two activities at once, a timer, an event and an entity signal: four counted actions, the wait not counted."""
    yield context.task_all([context.call_activity("Hello", "a"), context.call_activity("Hello", "b")])
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=5))
    yield context.wait_for_external_event("go")
    context.signal_entity(df.EntityId("Counter", "k"), "add", 1)
    return "done"


def _run_busy(max_actions: int) -> Driver:
    d = Driver(busy, max_actions=max_actions)
    d.episode()
    d.complete(0, "a")
    d.complete(1, "b")
    d.episode()
    d.fire(2)
    assert d.episode().status == RuntimeStatus.Running  # three counted so far: the wait for "go" is not one
    d.raise_event("go", None)
    d.episode()
    return d


def test_more_actions_than_max_orchestration_actions_fail_the_orchestration_with_the_extensions_words():
    # DurableOrchestrationContext.IncrementActionsOrThrowException: each episode's replay counts again from zero
    assert _run_busy(4).status == RuntimeStatus.Completed
    d = _run_busy(3)
    assert d.status == RuntimeStatus.Failed and d.decisions[-1].messages == []
    assert json.loads(d.decisions[-1].output) == (
        "Orchestrator function 'O' failed: Maximum amount of orchestration actions (3) has been reached. "
        "This value can be configured in host.json file as MaxOrchestrationActions.")
    assert engine.DEFAULT_MAX_ACTIONS == 100_000


@pytest.mark.parametrize(("stored", "context_input"), [
    (None, None),
    (json.dumps('{"a": 1}'), '{"a": 1}'),  # the SDK client's double encoding, decoded once
    ('{"a": 1}', {"a": 1}),  # a curl POST of an object: the object, which the SDK's context accepts
    ("5", 5),  # parsed as the extension passes it (the SDK's get_input cannot decode it, in Azure either)
    ("not json", "not json"),
])
def test_orchestrator_input_is_what_the_context_carries(stored, context_input):
    assert orchestrator_input(stored) == context_input


def test_the_context_of_an_episode_with_no_new_event_is_json_too():
    """The replay check (devhost.replay_check) asks for the context at the end of a recorded history: old events
    only."""
    old = [ev.orchestrator_started(T0), ev.execution_started(T0, "i", "e", "O", '"x"'), ev.orchestrator_completed(T0)]
    episode = engine.Episode("i", "e", "O", RuntimeStatus.Running, old, [], [], True, RuntimeStatus.Running, T0)

    context = json.loads(episode.context_json(None, None))

    assert [e["IsPlayed"] for e in context["history"]] == [True, True, True]


# -- what a parent receives from a child that did not complete (issue 24) ---------------------------
def catching_parent(context):
    try:
        return (yield context.call_sub_orchestrator("Child", "x"))
    except Exception as exc:
        return str(exc)  # the SDK's text of a failed task: "<Reason> \n <Details>"


def test_a_parent_catching_a_failed_child_gets_its_reason_and_empty_details():
    d = Driver(catching_parent)
    (first,) = d.episode().new_instances
    child = run_child(first, error=failure_reason())

    (reply,) = child.decisions[-1].messages
    # the child's own failure text: the activity's TaskFailed as the SDK raised it, "<Reason> \n <Details>"
    assert (reply.event["Reason"], reply.event["Details"]) == (
        "Orchestrator function 'Child' failed: Activity function 'Hello' failed: ValueError: no \n ", "")
    d.send(reply.event)
    assert json.loads(d.episode().output) == \
        "Orchestrator function 'Child' failed: Activity function 'Hello' failed: ValueError: no \n  \n "


def test_a_parent_catching_a_terminated_child_gets_the_termination_reason():
    d = Driver(catching_parent)
    (first,) = d.episode().new_instances
    reply = terminated_child(first)

    assert (reply.event["Reason"], reply.event["Details"], reply.event["ExecutionId"]) == \
        ("Orchestration terminated: stop", "", "exec-1")
    d.send(reply.event)
    assert json.loads(d.episode().output) == "Orchestration terminated: stop \n "


def test_a_state_with_no_actions_yet_keeps_the_instance_running_and_awaiting_anything():
    """An OrchestratorState that is not done and lists no action (another SDK's, or a hand-made one) waits."""
    d = Driver(hello_chain)
    episode = engine.prepare("inst-1", "exec-1", "O", RuntimeStatus.Pending, [], d.inbox, T0)

    decision = engine.decide(episode, {"isDone": False, "actions": []}, None, None)

    assert (decision.status, decision.awaits, decision.activities) == (RuntimeStatus.Running, None, [])



# -- the inbox around suspend and resume (issue 24) ------------------------------------------------
def kinds_of(events):
    return [EventType(e["EventType"]).name for e in events]


def test_after_a_resume_the_instance_takes_its_events_again():
    d = Driver(wait_for_go)
    d.episode()
    d.send(ev.execution_suspended(d.now, "pause"))
    d.episode()
    d.send(ev.execution_resumed(d.now, "go on"))
    assert d.episode().status == RuntimeStatus.Running

    d.raise_event("Go", 1)

    assert d.episode().status == RuntimeStatus.Completed


def test_a_suspend_and_a_resume_in_one_batch_are_recorded_once_each():
    history = [ev.orchestrator_started(T0), ev.execution_started(T0, "i", "e", "O", None)]
    messages = [(1, ev.execution_suspended(T0, None)), (2, ev.event_raised(T0, "a", None)),
                (3, ev.execution_resumed(T0, None)), (4, ev.execution_suspended(T0, None)),
                (5, ev.execution_resumed(T0, None))]

    episode = engine.prepare("i", "e", "O", RuntimeStatus.Running, history, messages, T0)

    assert kinds_of(episode.new_events) == ["OrchestratorStarted", "ExecutionSuspended", "ExecutionResumed",
                                            "EventRaised", "ExecutionSuspended", "ExecutionResumed"]
    assert episode.consumed == [1, 3, 2, 4, 5] and episode.run_code
    assert episode.status_after_messages == RuntimeStatus.Running


def test_a_start_held_by_a_suspend_runs_the_code_on_resume():
    messages = [(1, ev.execution_suspended(T0, None)), (2, ev.execution_started(T0, "i", "e", "O", None)),
                (3, ev.execution_resumed(T0, None))]

    episode = engine.prepare("i", "e", "O", RuntimeStatus.Pending, [], messages, T0)

    assert kinds_of(episode.new_events) == ["OrchestratorStarted", "ExecutionSuspended", "ExecutionResumed",
                                            "ExecutionStarted"]
    assert episode.run_code and episode.status_after_messages == RuntimeStatus.Running


def test_a_terminate_without_a_reason_ends_with_an_empty_one():
    d = Driver(wait_for_go)
    d.episode()
    d.send(ev.execution_terminated(d.now, None))

    decision = d.episode()

    assert (decision.status, decision.output) == (RuntimeStatus.Terminated, '""')


def test_every_event_of_earlier_episodes_is_played_retry_timers_too():
    def flaky(context):
        return (yield context.call_activity_with_retry("Flaky", df.RetryOptions(1000, 2), "x"))

    d = Driver(flaky, activities=frozenset({"Flaky"}))
    d.episode()
    d.fail(0, failure_reason("Flaky"))
    d.episode()
    d.fire(1)
    d.episode()

    events = json.loads(d.episodes[-1].context_json(None, None))["history"]
    played = len(d.episodes[-1].history)
    assert kinds_of(events[:played]).count("TimerCreated") == 1
    assert [e["IsPlayed"] for e in events] == [True] * played + [False] * (len(events) - played)



def test_the_outcome_consumes_inbox_messages_not_carried_results():
    """The dispatcher hands a carried activity result in under its work id negated: not an inbox message."""
    d = Driver(hello_chain)
    d.episode()
    messages = [(1, ev.task_completed(T0, 0, '"Hello Tokyo!"')), (-7, ev.event_raised(T0, "x", None))]
    episode = engine.prepare("inst-1", "exec-1", "O", RuntimeStatus.Running, d.history, messages, T0)

    decision = engine.decide(episode, {"isDone": False, "actions": [[]]}, None, None)

    assert episode.consumed == [1, -7] and decision.consumed == [1]


def continues(context):
    if context.get_input() is None:
        context.continue_as_new("again")
    return context.get_input()
    yield


def test_a_continued_as_new_execution_gets_a_new_random_id_and_keeps_its_parent():
    parent = {"Name": "P", "Version": "", "TaskScheduleId": 0,
              "OrchestrationInstance": {"InstanceId": "p", "ExecutionId": "pe"}}
    d = Driver(continues, parent=parent)
    d.episode()
    episode, state = d.episodes[-1], d.states[-1]

    first, second = (engine.decide(episode, state, None, parent).continue_as_new for _ in range(2))

    assert first.parent_instance_id == "p" and first.started["ParentInstance"] == parent
    assert len(first.execution_id) == 32 and first.execution_id != second.execution_id



def test_an_activity_scheduled_in_the_episode_that_continues_as_new_is_dropped():
    def races_then_restarts(context):
        yield context.task_any([context.call_activity("Hello", "x"), context.wait_for_external_event("Go")])
        context.continue_as_new("next")
        return None

    d = Driver(races_then_restarts)
    d.raise_event("Go", 1)

    decision = d.episode()

    assert decision.status == RuntimeStatus.ContinuedAsNew and decision.activities == []
    assert "TaskScheduled" in d.kinds(decision.history)


def test_signals_sent_in_the_episode_that_completes_go_out():
    def signals_and_ends(context):
        context.signal_entity(df.EntityId("Counter", "k1"), "add", 1)
        return "done"
        yield

    decision = Driver(signals_and_ends).episode()

    assert decision.status == RuntimeStatus.Completed
    assert [(m.instance_id, m.event["Name"]) for m in decision.messages] == [("@counter@k1", "op")]



def test_decide_leaves_the_statuses_it_was_given_as_they_were():
    d = Driver(twins_orchestrator)
    d.episode()
    statuses = {"my-child": RuntimeStatus.Completed}

    engine.decide(d.episodes[-1], d.state, None, None, None, lambda ids: statuses)

    assert statuses == {"my-child": RuntimeStatus.Completed}


def test_the_custom_status_limit_is_16_kb_of_compact_json_in_utf16():
    """MessagePayloadDataConverter.Serialize(value, 16): the compact JSON's UTF-16 bytes, in whole KB, at most 16."""
    fits, over = "x" * (17 * 1024 // 2 - 3), "x" * (17 * 1024 // 2 - 2)  # with its quotes: 17407 and 17408 bytes
    # about 900 items: with ", " or ": " between them the JSON would pass 17 KB in UTF-16
    compact = {f"k{i}": 1 for i in range(930)}
    assert len(json.dumps(compact, separators=(",", ":"))) * 2 < 17 * 1024 < len(json.dumps(compact)) * 2

    assert engine.custom_status_too_big(fits) is None and engine.custom_status_too_big(compact) is None
    assert engine.custom_status_too_big(None) is None
    assert engine.custom_status_too_big(over) == ("The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. "
                                                  "The current payload size is 17 KB.")

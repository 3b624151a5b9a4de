"""devhost.runtime.operations: the management operations over a real Store, with a recording hand_on, a clock the test
moves and predictable ids. Domain errors are exceptions here; only http turns them into status codes."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from devhost.clock import Clock, new_id
from devhost.errors import BadRequest, Conflict, Gone, InvalidOperation, NotFound
from devhost.model import EpisodeOutcome, EventType, Query, RuntimeStatus
from devhost.protocol import history_events as ev
from devhost.runtime.operations import (
    Operations,
    entity_instance_id,
    parse_time,
    validate_instance_id,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
ORCHESTRATORS = ["HelloOrchestrator", "Other"]


class FixedClock(Clock):
    """A clock that stands still at T0 until the test advances it."""

    def time(self) -> float:
        return T0.timestamp() + self.offset


class Recorder:
    """hand_on: keeps what the operations handed to the dispatcher."""

    def __init__(self) -> None:
        self.calls: list[tuple[list, list]] = []

    def __call__(self, works, messages) -> None:
        self.calls.append((list(works), list(messages)))

    @property
    def messages(self):
        return [m for _, messages in self.calls for m in messages]


@pytest.fixture
def clock():
    return FixedClock()


@pytest.fixture
def handed():
    return Recorder()


@pytest.fixture
def ops(store, clock, handed):
    counter = iter(range(1, 1000))
    return Operations(store, lambda: ORCHESTRATORS, clock, handed, ids=lambda: f"id{next(counter)}")


def set_status(ops: Operations, instance_id: str, status: RuntimeStatus, output: str | None = None,
               history: list | None = None) -> None:
    """Move an instance to `status` as an episode would (one commit)."""
    instance = ops.store.get_instance(instance_id)
    ops.store.commit_episode(instance, EpisodeOutcome(history or [], status, output=output), ops.clock.time())


def inbox_events(ops: Operations, instance_id: str) -> list[dict]:
    return [e for _, e in ops.store.inbox(instance_id, None, float("inf"))[0]]


# -- instance ids -----------------------------------------------------------------------------------
@pytest.mark.parametrize("good", ["abc", "a" * 256, "東京-1", "with space", "x:0", "a@b"])
def test_valid_instance_ids(good):
    validate_instance_id(good)


@pytest.mark.parametrize(("bad", "message"), [
    ("", "must not be empty"), ("   ", "must not be empty"),
    ("a" * 257, "must not exceed 256 characters"),
    ("@counter@k", "must not start with @"),
    ("a/b", "invalid characters"), ("a\\b", "invalid characters"), ("a#b", "invalid characters"),
    ("a?b", "invalid characters"), ("a\x00b", "invalid characters"), ("a\nb", "invalid characters"),
    ("a\x7fb", "invalid characters"), ("a\x85b", "invalid characters"),
])
def test_invalid_instance_ids_are_bad_requests(bad, message):
    with pytest.raises(BadRequest, match=message):
        validate_instance_id(bad)


def test_generated_ids_are_guids_in_n_format():
    first, second = new_id(), new_id()

    assert len(first) == 32 and int(first, 16) >= 0 and first == first.lower() and first != second


# -- start ----------------------------------------------------------------------------------------
def test_start_creates_a_pending_instance_and_hands_on_its_start(ops, handed):
    instance_id = ops.start("HelloOrchestrator", input_text='"Tokyo"')

    assert instance_id == "id1"
    instance = ops.store.get_instance("id1")
    assert (instance.name, instance.status, instance.input, instance.execution_id) == (
        "HelloOrchestrator", RuntimeStatus.Pending, '"Tokyo"', "id2")
    assert instance.created_at == T0
    ((works, (message,)),) = handed.calls
    assert works == [] and message.instance_id == "id1"
    assert message.event["EventType"] == EventType.ExecutionStarted and message.event["Input"] == '"Tokyo"'


def test_start_with_an_instance_id_and_a_version(ops):
    assert ops.start("HelloOrchestrator", "order-42", None, version="2.0") == "order-42"

    instance = ops.store.get_instance("order-42")
    assert (instance.version, instance.input) == ("2.0", None)


def test_function_names_match_case_insensitively_and_keep_the_callers_spelling(ops):
    # DurableClient.StartNewAsync checks the name ignoring case, then creates the instance with the name it was given
    ops.start("helloorchestrator", "x")

    assert ops.store.get_instance("x").name == "helloorchestrator"


def test_an_unknown_orchestrator_is_a_bad_request_listing_the_known_ones(ops, handed):
    with pytest.raises(BadRequest) as caught:
        ops.start("Nope")

    assert str(caught.value) == ("The function 'Nope' doesn't exist, is disabled, or is not an orchestrator "
                                 "function. Additional info: The following are the known orchestrator functions: "
                                 "'HelloOrchestrator', 'Other'.")
    assert handed.calls == []


def test_a_bad_instance_id_creates_nothing(ops, handed):
    with pytest.raises(BadRequest):
        ops.start("HelloOrchestrator", "a/b")

    assert handed.calls == [] and ops.store.query(Query()) == ([], None)


@pytest.mark.parametrize("status", [RuntimeStatus.Pending, RuntimeStatus.Running, RuntimeStatus.Suspended])
def test_starting_over_an_unfinished_instance_is_a_conflict(ops, status):
    ops.start("HelloOrchestrator", "dup")
    if status != RuntimeStatus.Pending:
        set_status(ops, "dup", status)

    with pytest.raises(Conflict, match=f"An Orchestration instance with the status {status.value} already exists."):
        ops.start("HelloOrchestrator", "dup")


@pytest.mark.parametrize("status", [RuntimeStatus.Completed, RuntimeStatus.Failed, RuntimeStatus.Terminated])
def test_starting_over_a_finished_instance_replaces_it(ops, clock, status):
    ops.start("HelloOrchestrator", "again", '"first"')
    set_status(ops, "again", status, '"out"')
    clock.advance(60)

    ops.start("Other", "again", '"second"')

    instance = ops.store.get_instance("again")
    assert (instance.name, instance.status, instance.input, instance.output) == (
        "Other", RuntimeStatus.Pending, '"second"', None)
    assert instance.created_at == T0 + timedelta(seconds=60)


# -- status and query -------------------------------------------------------------------------------
def test_status_of_an_unknown_instance_is_not_found(ops):
    with pytest.raises(NotFound):
        ops.status("missing")


def test_status_is_the_payload_with_history_when_asked(ops):
    ops.start("HelloOrchestrator", "s", '"x"')
    started = inbox_events(ops, "s")[0]
    set_status(ops, "s", RuntimeStatus.Running, history=[ev.orchestrator_started(T0), started])

    plain = ops.status("s")
    with_history = ops.status("s", show_history=True, show_history_output=True)
    without_input = ops.status("s", show_input=False)

    assert plain["runtimeStatus"] == "Running" and plain["input"] == "x" and "historyEvents" not in plain
    assert [e["EventType"] for e in with_history["historyEvents"]] == ["ExecutionStarted"]
    assert without_input["input"] is None


def test_entities_are_not_orchestration_instances(ops):
    ops.store.commit_entity("@counter@k", "counter", True, "1", [], [], T0.timestamp())

    with pytest.raises(NotFound):
        ops.status("@counter@k")
    assert ops.get("@counter@k") is None
    with pytest.raises(NotFound):
        ops.terminate("@counter@k", None)


def test_query_returns_payloads_and_the_next_token(ops):
    for name in ("a", "b", "c"):
        ops.start("HelloOrchestrator", name, '"in"')

    page, token = ops.query(Query(top=2))
    rest, end = ops.query(Query(top=2, continuation=token), show_input=True)

    assert [p["instanceId"] for p in page] == ["a", "b"] and page[0]["input"] is None
    assert [p["instanceId"] for p in rest] == ["c"] and rest[0]["input"] == "in" and end is None


def test_a_bad_continuation_token_is_a_bad_request(ops):
    with pytest.raises(BadRequest, match="not one this host gave out"):
        ops.query(Query(continuation="nonsense"))


# -- raise, terminate, suspend, resume ----------------------------------------------------------------
@pytest.mark.parametrize("operation", ["raise_event", "terminate", "suspend", "resume"])
def test_operations_on_an_unknown_instance_are_not_found(ops, operation):
    call = {"raise_event": lambda: ops.raise_event("missing", "go", None)}.get(
        operation, lambda: getattr(ops, operation)("missing", None))

    with pytest.raises(NotFound):
        call()


@pytest.mark.parametrize("operation", ["raise_event", "terminate", "suspend", "resume"])
@pytest.mark.parametrize("status", [RuntimeStatus.Completed, RuntimeStatus.Failed, RuntimeStatus.Terminated])
def test_operations_on_a_finished_instance_are_gone(ops, handed, operation, status):
    ops.start("HelloOrchestrator", "done")
    set_status(ops, "done", status)
    handed.calls.clear()
    call = {"raise_event": lambda: ops.raise_event("done", "go", None)}.get(
        operation, lambda: getattr(ops, operation)("done", None))

    with pytest.raises(Gone):
        call()
    assert handed.calls == []


@pytest.mark.parametrize("status", [RuntimeStatus.Pending, RuntimeStatus.Running, RuntimeStatus.Suspended])
def test_raise_event_is_accepted_while_unfinished(ops, handed, status):
    ops.start("HelloOrchestrator", "i")
    if status != RuntimeStatus.Pending:
        set_status(ops, "i", status)

    ops.raise_event("i", "Approval", '{"ok": true}')

    raised = inbox_events(ops, "i")[-1]
    assert (raised["EventType"], raised["Name"], raised["Input"]) == (EventType.EventRaised, "Approval",
                                                                      '{"ok": true}')
    assert handed.messages[-1].instance_id == "i"


def test_terminate_sends_the_reason(ops, handed):
    ops.start("HelloOrchestrator", "i")

    ops.terminate("i", "enough")

    terminated = inbox_events(ops, "i")[-1]
    assert (terminated["EventType"], terminated["Input"]) == (EventType.ExecutionTerminated, "enough")
    assert ops.store.get_instance("i").status == RuntimeStatus.Pending  # the episode makes it Terminated
    assert handed.messages[-1].event == terminated


def test_suspend_and_resume_show_their_status_at_once(ops, clock):
    ops.start("HelloOrchestrator", "i")
    set_status(ops, "i", RuntimeStatus.Running)
    clock.advance(5)

    ops.suspend("i", "pause")
    suspended = ops.store.get_instance("i")
    clock.advance(5)
    ops.resume("i", "go on")
    resumed = ops.store.get_instance("i")

    assert (suspended.status, suspended.updated_at) == (RuntimeStatus.Suspended, T0 + timedelta(seconds=5))
    assert (resumed.status, resumed.updated_at) == (RuntimeStatus.Running, T0 + timedelta(seconds=10))
    kinds = [(e["EventType"], e["Reason"]) for e in inbox_events(ops, "i")[1:]]
    assert kinds == [(EventType.ExecutionSuspended, "pause"), (EventType.ExecutionResumed, "go on")]


def test_suspending_twice_is_an_invalid_operation(ops):
    ops.start("HelloOrchestrator", "i")
    ops.suspend("i", None)

    with pytest.raises(InvalidOperation, match="already suspended"):
        ops.suspend("i", None)


def test_resuming_an_instance_that_is_not_suspended_is_an_invalid_operation(ops):
    ops.start("HelloOrchestrator", "i")
    set_status(ops, "i", RuntimeStatus.Running)

    with pytest.raises(InvalidOperation, match="not suspended"):
        ops.resume("i", None)


# -- purge ----------------------------------------------------------------------------------------
def test_purge_deletes_a_finished_instance(ops):
    ops.start("HelloOrchestrator", "i")
    set_status(ops, "i", RuntimeStatus.Completed)

    assert ops.purge("i") == 1
    assert ops.store.get_instance("i") is None


def test_purge_of_an_unknown_instance_is_not_found(ops):
    with pytest.raises(NotFound):
        ops.purge("missing")


@pytest.mark.parametrize("status", [RuntimeStatus.Pending, RuntimeStatus.Running, RuntimeStatus.Suspended])
def test_purge_of_an_unfinished_instance_deletes_it_as_the_extension_3_does(ops, status):
    ops.start("HelloOrchestrator", "i")
    if status != RuntimeStatus.Pending:
        set_status(ops, "i", status)

    assert ops.purge("i") == 1
    assert ops.store.get_instance("i") is None and ops.store.get_history("i") == []


def test_purge_by_filter_needs_created_time_from(ops):
    with pytest.raises(BadRequest, match="createdTimeFrom"):
        ops.purge_by(Query())


def test_purge_by_filter_deletes_finished_matching_instances_or_every_status_without_one(ops, clock, caplog):
    # DurableTask.AzureStorage's PurgeInstanceHistoryAsync keeps only the finished statuses of the filter; with
    # none left it filters on no status at all
    for name, status in [("c", RuntimeStatus.Completed), ("f", RuntimeStatus.Failed), ("r", RuntimeStatus.Running)]:
        ops.start("HelloOrchestrator", name)
        set_status(ops, name, status)
    clock.advance(100)
    ops.start("HelloOrchestrator", "late")
    set_status(ops, "late", RuntimeStatus.Completed)

    assert ops.purge_by(Query(created_from=T0, created_to=T0 + timedelta(seconds=10),
                              statuses=frozenset({RuntimeStatus.Failed, RuntimeStatus.Running}))) == 1
    assert "running ones included" not in caplog.text
    assert ops.purge_by(Query(created_from=T0, created_to=T0 + timedelta(seconds=10))) == 2

    assert [i.instance_id for i in ops.store.query(Query())[0]] == ["late"]
    assert "deletes instances of every status, running ones included" in caplog.text


# -- restart and rewind -----------------------------------------------------------------------------
def test_restart_starts_the_same_orchestrator_with_the_same_input_under_a_new_id(ops):
    ops.start("HelloOrchestrator", "orig", '"payload"', version="1")
    set_status(ops, "orig", RuntimeStatus.Completed)

    restarted = ops.restart("orig")

    instance = ops.store.get_instance(restarted)
    assert restarted != "orig"
    assert (instance.name, instance.input, instance.version, instance.status) == (
        "HelloOrchestrator", '"payload"', "1", RuntimeStatus.Pending)


def test_restart_under_the_same_id_replaces_a_finished_instance(ops):
    ops.start("HelloOrchestrator", "orig", '"payload"')
    set_status(ops, "orig", RuntimeStatus.Failed)

    assert ops.restart("orig", new_instance_id=False) == "orig"
    assert ops.store.get_instance("orig").status == RuntimeStatus.Pending


def test_restart_under_the_same_id_of_a_running_instance_is_a_conflict(ops):
    ops.start("HelloOrchestrator", "orig")

    with pytest.raises(Conflict):
        ops.restart("orig", new_instance_id=False)


def test_restart_of_an_unknown_instance_is_a_bad_request(ops):
    with pytest.raises(BadRequest, match="An orchestrastion with the instanceId missing was not found."):
        ops.restart("missing")


def test_rewind_retries_the_failed_activity(ops, handed):
    ops.start("HelloOrchestrator", "i")
    started = inbox_events(ops, "i")[0]
    history = [ev.orchestrator_started(T0), started, ev.task_scheduled(T0, 0, "Hello", '"x"'),
               ev.orchestrator_completed(T0), ev.orchestrator_started(T0),
               ev.task_failed(T0, 0, "Activity function 'Hello' failed: ValueError: no", ""),
               ev.execution_completed(T0, "Failed", '"boom"'), ev.orchestrator_completed(T0)]
    set_status(ops, "i", RuntimeStatus.Failed, '"boom"', history=history)
    handed.calls.clear()

    ops.rewind("i", "try again")

    instance = ops.store.get_instance("i")
    assert (instance.status, instance.output) == (RuntimeStatus.Running, None)
    kinds = [EventType(e["EventType"]).name for e in ops.store.get_history("i")]
    assert "TaskFailed" not in kinds and "ExecutionCompleted" not in kinds
    ((works, messages),) = handed.calls
    assert [(w.task_id, w.name, w.input) for w in works] == [(0, "Hello", '"x"')]
    assert [m.event["EventType"] for m in messages] == [EventType.GenericEvent]


def test_rewind_after_exhausted_retries_runs_the_last_attempt_again(ops, handed):
    # Three attempts (ids 0, 2, 4), each followed by its retry timer (1, 3, 5; 5 after the last): the retry got
    # past attempts 0 and 2, so they stay failed with their timers; attempt 4 loses its failure and the timer after
    # it, and runs again. (The extension keeps every timer, and the replay then fails as non-deterministic.)
    ops.start("HelloOrchestrator", "i")
    history = [ev.orchestrator_started(T0), inbox_events(ops, "i")[0]]
    for attempt, timer in ((0, 1), (2, 3), (4, 5)):
        history += [ev.task_scheduled(T0, attempt, "Flaky", '"x"'),
                    ev.task_failed(T0, attempt, f"Activity function 'Flaky' failed:  ValueError: {attempt}", "{}"),
                    ev.timer_created(T0, timer, "2024-05-01T12:00:00.0000000Z", attempt, timer == 5),
                    ev.timer_fired(T0, timer, "2024-05-01T12:00:00.0000000Z")]
    history += [ev.execution_completed(T0, "Failed", '"boom"'), ev.orchestrator_completed(T0)]
    set_status(ops, "i", RuntimeStatus.Failed, '"boom"', history=history)
    handed.calls.clear()

    ops.rewind("i", "the service is back")

    kept = [(EventType(e["EventType"]).name, e.get("EventId"), e.get("TaskScheduledId", e.get("TimerId")))
            for e in ops.store.get_history("i")[2:]]
    assert kept == [("TaskScheduled", 0, None), ("TaskFailed", -1, 0), ("TimerCreated", 1, None),
                    ("TimerFired", -1, 1),
                    ("TaskScheduled", 2, None), ("TaskFailed", -1, 2), ("TimerCreated", 3, None),
                    ("TimerFired", -1, 3),
                    ("TaskScheduled", 4, None), ("OrchestratorCompleted", -1, None)]
    ((works, _),) = handed.calls
    assert [(w.task_id, w.name) for w in works] == [(4, "Flaky")]


def failed_with_child(ops, instance_id: str, child_id: str) -> None:
    """`instance_id` Failed because its sub-orchestration `child_id` failed (as the engine refuses a child whose id
    is taken: the parent's own id is)."""
    if ops.store.get_instance(instance_id) is None:
        ops.start("HelloOrchestrator", instance_id)
    history = [ev.orchestrator_started(T0), inbox_events(ops, instance_id)[0],
               ev.sub_orchestration_created(T0, 0, "HelloOrchestrator", child_id, None),
               ev.orchestrator_completed(T0), ev.orchestrator_started(T0),
               ev.sub_orchestration_failed(T0, 0, "An Orchestration instance with the status Running already "
                                                  "exists.", None),
               ev.execution_completed(T0, "Failed", '"boom"'), ev.orchestrator_completed(T0)]
    set_status(ops, instance_id, RuntimeStatus.Failed, '"boom"', history=history)


def test_rewind_of_an_instance_whose_failed_child_has_its_own_id_ends(ops, handed):
    failed_with_child(ops, "i", "i")
    handed.calls.clear()

    ops.rewind("i", "again")

    assert ops.store.get_instance("i").status == RuntimeStatus.Running
    kinds = [EventType(e["EventType"]).name for e in ops.store.get_history("i")]
    assert "SubOrchestrationInstanceFailed" not in kinds and kinds.count("SubOrchestrationInstanceCreated") == 1
    assert len(handed.calls) == 1  # rewound once


def test_rewind_of_instances_that_name_each_other_as_failed_children_rewinds_each_once(ops, handed):
    ops.start("HelloOrchestrator", "a")
    ops.start("HelloOrchestrator", "b")
    failed_with_child(ops, "a", "b")
    failed_with_child(ops, "b", "a")
    handed.calls.clear()

    ops.rewind("a", None)

    assert [ops.store.get_instance(i).status for i in ("a", "b")] == [RuntimeStatus.Running] * 2
    assert len(handed.calls) == 2


def test_rewind_of_an_unknown_instance_is_not_found(ops):
    with pytest.raises(NotFound):
        ops.rewind("missing", None)


@pytest.mark.parametrize("status, error", [(RuntimeStatus.Running, InvalidOperation),
                                           (RuntimeStatus.Completed, Gone), (RuntimeStatus.Terminated, Gone)])
def test_rewind_of_an_instance_that_did_not_fail_is_refused(ops, status, error):
    # A finished instance is Gone (the extension's 410, which the SDK's rewind() expects); for a running one the
    # extension's client throws InvalidOperationException (a 500).
    ops.start("HelloOrchestrator", "i")
    set_status(ops, "i", status)

    with pytest.raises(error):
        ops.rewind("i", None)


# -- entities -------------------------------------------------------------------------------------
def test_entity_ids_lower_case_the_name():
    assert entity_instance_id("Counter", "Key1") == "@counter@Key1"


def test_signal_entity_puts_a_request_in_the_entitys_inbox(ops, handed):
    ops.signal_entity("Counter", "k", "add", "5")

    (request,) = inbox_events(ops, "@counter@k")
    assert (request["EventType"], request["Name"]) == (EventType.EventRaised, "op")  # the extension's name
    body = json.loads(request["Input"])
    assert (body["op"], body["signal"]) == ("add", True)
    assert handed.messages[-1].instance_id == "@counter@k"


def test_read_entity_returns_the_state_text(ops):
    ops.store.commit_entity("@counter@k", "counter", True, '{"n": 3}', [], [], T0.timestamp())

    assert ops.read_entity("Counter", "k") == '{"n": 3}'


def test_read_entity_without_state_is_not_found(ops):
    with pytest.raises(NotFound):
        ops.read_entity("Counter", "nobody")


# -- helpers --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("2024-05-01T12:00:00Z", T0),
    ("2024-05-01T12:00:00.500000Z", T0 + timedelta(milliseconds=500)),
    ("2024-05-01T14:00:00+02:00", T0),
    ("2024-05-01T14:00:00 02:00", T0),  # a '+' in a query string arrives as a space
    ("2024-05-01T12:00:00", T0),
    (None, None), ("", None),
])
def test_parse_time_reads_iso_timestamps_as_utc(text, expected):
    assert parse_time(text) == expected


def test_parse_time_refuses_other_text():
    with pytest.raises(BadRequest, match="is not a valid date and time"):
        parse_time("yesterday")


@pytest.mark.parametrize("statuses", [{RuntimeStatus.Running}, {RuntimeStatus.Pending, RuntimeStatus.Suspended}])
def test_purge_by_filter_for_unfinished_statuses_only_deletes_every_status(ops, statuses):
    # the filter left without a finished status filters on none (DurableTask.AzureStorage), as in Azure
    for name, status in [("c", RuntimeStatus.Completed), ("r", RuntimeStatus.Running)]:
        ops.start("HelloOrchestrator", name)
        set_status(ops, name, status)

    assert ops.purge_by(Query(created_from=T0, statuses=frozenset(statuses))) == 2

    assert ops.store.query(Query())[0] == []

"""unfold.py: the exact history rebuilt from the folded form a status answer shows (devhost's own folding,
status_payloads.history_events), with event ids in scheduling order and a batch of one instant put in the code's
order once a replay asks."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from devhost.model import EventType, history_timestamp
from devhost.protocol import history_events as ev
from devhost.protocol.shim import Scheduled
from devhost.protocol.status_payloads import history_events
from devhost.replay_check.unfold import from_status

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def status(events):
    return {"name": "Orch", "instanceId": "i1", "runtimeStatus": "Completed", "input": None,
            "historyEvents": history_events(events, show_output=True, show_input=True)}


def kinds_and_ids(events):
    return [(EventType(e["EventType"]).name, e.get("EventId"), e.get("TaskScheduledId", e.get("TimerId")))
            for e in events if e["EventType"] not in (EventType.OrchestratorStarted, EventType.OrchestratorCompleted)]


def chain():
    return [ev.orchestrator_started(at(0)), ev.execution_started(at(0), "i1", "e1", "Orch", '"in"'),
            ev.task_scheduled(at(0), 0, "A", '"a"'), ev.orchestrator_completed(at(0)),
            ev.orchestrator_started(at(1)), ev.task_completed(at(0.5), 0, '"ra"'),
            ev.timer_created(at(1), 1, history_timestamp(at(5))), ev.orchestrator_completed(at(1)),
            ev.orchestrator_started(at(5)), ev.timer_fired(at(5), 1, history_timestamp(at(5))),
            ev.task_scheduled(at(5), 2, "B", '"b"'), ev.orchestrator_completed(at(5)),
            ev.orchestrator_started(at(6)), ev.task_failed(at(5.5), 2, "boom", "details"),
            ev.execution_completed(at(6), "Failed", '"failed"'), ev.orchestrator_completed(at(6))]


def test_a_chain_gets_back_its_event_ids_completions_and_results():
    recorded = from_status(status(chain()), "x.json")

    assert kinds_and_ids(recorded.events) == [
        ("ExecutionStarted", -1, None), ("TaskScheduled", 0, None), ("TaskCompleted", -1, 0),
        ("TimerCreated", 1, None), ("TimerFired", -1, 1), ("TaskScheduled", 2, None), ("TaskFailed", -1, 2),
        ("ExecutionCompleted", -1, None)]
    completed = next(e for e in recorded.events if e["EventType"] == EventType.TaskCompleted)
    assert completed["Result"] == '"ra"'  # shown parsed, given back as the JSON text the SDK reads
    assert recorded.input == '"in"' and recorded.count == 6
    # each episode starts at the time of what it scheduled; every event knows its place in the folded list
    starts = [e["Timestamp"] for e in recorded.events if e["EventType"] == EventType.OrchestratorStarted]
    assert starts == [history_timestamp(at(0)), history_timestamp(at(1)), history_timestamp(at(5)),
                      history_timestamp(at(6))]
    assert recorded.positions[-1] == 6


def test_a_batch_of_one_instant_takes_the_order_the_code_schedules_it_in():
    events = [ev.orchestrator_started(at(0)), ev.execution_started(at(0), "i1", "e1", "Orch", None),
              ev.task_scheduled(at(0), 0, "A", None), ev.timer_created(at(0), 1, history_timestamp(at(9))),
              ev.orchestrator_completed(at(0)), ev.orchestrator_started(at(1)), ev.task_completed(at(1), 0, "1"),
              ev.execution_completed(at(1), "Completed", "1"), ev.orchestrator_completed(at(1))]
    recorded = from_status(status(events), "x.json")
    # the folded form keeps the timer in place and the activity in its completion: alone, it cannot tell
    assert kinds_and_ids(recorded.events)[1:3] == [("TimerCreated", 0, None), ("TaskScheduled", 1, None)]

    changed = recorded.rebuilt.reorder(0, {0: Scheduled(EventType.TaskScheduled, "A"),
                                           1: Scheduled(EventType.TimerCreated, "")})
    rebuilt, _ = recorded.rebuilt.events()

    assert changed
    assert kinds_and_ids(rebuilt) == [("ExecutionStarted", -1, None), ("TimerCreated", 1, None),
                                      ("TaskScheduled", 0, None), ("TaskCompleted", -1, 0),
                                      ("ExecutionCompleted", -1, None)]
    assert not recorded.rebuilt.reorder(0, {})  # a batch is put in order once: a second disagreement is real

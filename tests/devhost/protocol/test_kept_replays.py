"""The shim's replay carried on from one episode to the next (KeptReplays) decides exactly as a replay from the start:
the example orchestrators, driven through the real SDK by random news (completions, failures, timers, events, rolled
back episodes), each in two drivers in step, one replaying from the start and one keeping its replays."""
from __future__ import annotations

import copy
import importlib.util
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import azure.durable_functions as df
import pytest

from devhost.model import TERMINAL_STATUSES, ActionType, EventType, RuntimeStatus
from devhost.protocol import history_events as ev
from devhost.protocol.kept_replays import KeptReplays
from devhost.protocol.shim import ActionReplay
from tests.devhost.orchestration_driver import Driver, hello_chain

pytestmark = pytest.mark.filterwarnings("ignore:Potential duplicate Task completion")  # events raised twice
ROOT = Path(__file__).resolve().parents[3]
APPS = ROOT / "tests" / "apps"


def orchestrator(path: Path) -> Callable[..., Any]:
    spec = importlib.util.spec_from_file_location(f"kept_{path.parent.name}_{path.parent.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.orchestrator_function


def app(name: str) -> Callable[..., Any]:
    return orchestrator(APPS / name / "__init__.py")


def long_chain(context: df.DurableOrchestrationContext):
    """Sequential calls, some failures caught, a timer now and then: the long histories the kept replay is for."""
    total = 0
    for step in range(25):
        try:
            total += (yield context.call_activity("Hello", step)) or 0
        except Exception:
            total -= 1
        if step % 10 == 9:
            yield context.create_timer(context.current_utc_datetime)
    return total


ACTIVITIES = frozenset({"Hello", "Square", "Fetch", "Flaky", "ReadFile", "SendApprovalRequest", "Increment",
                        "NextPage", "Greet"})
EVENTS = ["Approval", "a", "b"]
# name, orchestrator, input
SCENARIOS = [
    ("hello app", orchestrator(ROOT / "HelloOrchestrator" / "__init__.py"), None),
    ("long chain", long_chain, None),
    ("fan-out fan-in", app("fan_out_fan_in/FanOutFanIn"), {"count": 6}),
    ("first response", app("fan_out_fan_in/FirstResponse"), {"m1": 1, "m2": 2, "m3": 3}),
    ("retried activity", app("retries/RetryActivity"), {"dir": "d", "failures": 2, "attempts": 4}),
    ("retried sub-orchestration", app("retries/RetrySubOrchestrator"), {"dir": "d", "failures": 1, "attempts": 3}),
    ("caught failure", app("retries/CatchFailure"), {"dir": "d", "failures": 1}),
    ("approval with timeout", app("timers/ApprovalWithTimeout"), {"timeout": 60}),
    ("monitor", app("timers/Monitor"), {"expiry": 600, "interval": 30, "path": "p"}),
    ("approval workflow", app("human_interaction/ApprovalWorkflow"), {"who": "x"}),
    ("collect events", app("human_interaction/Collect"), {"events": ["a", "b", "a"]}),
    ("sub-orchestrations", app("sub_orchestrations/Parent"), ["Tokyo", "Seattle"]),
    ("continue-as-new", app("continue_as_new/Counter"), {"count": 0, "limit": 4}),
]
_COMPLETIONS = {EventType.TaskCompleted, EventType.TaskFailed, EventType.SubOrchestrationInstanceCompleted,
                EventType.SubOrchestrationInstanceFailed}


def open_calls(driver: Driver) -> list[int]:
    """Activities and sub-orchestrations of the current execution scheduled and not answered yet."""
    known = driver.history + [e for _, e in driver.inbox]
    answered = {e["TaskScheduledId"] for e in known if e["EventType"] in _COMPLETIONS}
    return [e["EventId"] for e in driver.history if e["EventId"] not in answered and e["EventType"] in
            (EventType.TaskScheduled, EventType.SubOrchestrationInstanceCreated)]


def open_timers(driver: Driver) -> list[int]:
    """Timers of the current execution whose TimerFired was sent and not delivered yet."""
    known = driver.history + [e for _, e in driver.inbox]
    fired = {e["TimerId"] for e in known if e["EventType"] == EventType.TimerFired}
    sent = {m.event["TimerId"] for m in driver.sent_to_self() if m.event["EventType"] == EventType.TimerFired
            and m.event.get("ExecutionId") == driver.execution_id}
    return [e["EventId"] for e in driver.history if e["EventType"] == EventType.TimerCreated
            and e["EventId"] in sent and e["EventId"] not in fired]


def send_news(rng: random.Random, drivers: tuple[Driver, Driver]) -> None:
    """One to three random pieces of news for what the instance has open, to both drivers."""
    for _ in range(rng.randint(1, 3)):
        calls, timers, roll = open_calls(drivers[0]), open_timers(drivers[0]), rng.random()
        if calls and roll < 0.6:
            task = rng.choice(calls)
            if rng.random() < 0.2:
                item: tuple[str, Any] = ("fail", task)
            else:
                item = ("complete", (task, rng.choice([2, 3, None, "x"]) if rng.random() < 0.3 else 2))
        elif timers and roll < 0.8:
            item = ("fire", rng.choice(timers))
        elif roll < 0.9:
            item = ("raise", rng.choice(EVENTS))
        else:
            continue
        for driver in drivers:
            deliver(driver, item)


def is_child(driver: Driver, task: int) -> bool:
    return any(e["EventType"] == EventType.SubOrchestrationInstanceCreated and e["EventId"] == task
               for e in driver.history)


def deliver(driver: Driver, item: tuple[str, Any]) -> None:
    kind, value = item
    if kind == "complete":
        task, result = value
        driver.send(ev.sub_orchestration_completed(driver.now, task, json.dumps(result)) if is_child(driver, task)
                    else ev.task_completed(driver.now, task, json.dumps(result)))
    elif kind == "fail":  # a child's failure comes as SubOrchestrationInstanceFailed, an activity's as TaskFailed
        reason = "Activity function 'X' failed: ValueError: no"
        driver.send(ev.sub_orchestration_failed(driver.now, value, reason, "") if is_child(driver, value)
                    else ev.task_failed(driver.now, value, reason, ""))
    elif kind == "fire":
        driver.fire(value)
    else:
        driver.raise_event(value, {"from": value})


SAVED = ("history", "inbox", "status", "now", "execution_id", "input", "decisions", "episodes", "states", "_ids")


def run_in_step(orchestrator_fn: Callable[..., Any], input_: Any, seed: int, reread: bool = True) -> KeptReplays:
    """Drive the two drivers with the same news until the instance ends; every episode must decide alike."""
    rng = random.Random(seed)
    kept = KeptReplays()
    full = Driver(orchestrator_fn, input_=input_, activities=ACTIVITIES, reread=reread)
    fast = Driver(orchestrator_fn, input_=input_, activities=ACTIVITIES, replays=kept, reread=reread)
    for step in range(120):
        if step:
            send_news(rng, (full, fast))
        rolled_back = rng.random() < 0.1  # the episode's commit rolls back: the next one starts from the same state
        saved = [{name: copy.copy(getattr(d, name)) for name in SAVED} for d in (full, fast)]
        expected, got = full.episode(), fast.episode()
        assert got == expected, f"seed {seed}, episode {step}"
        if rolled_back:
            for d, state in zip((full, fast), saved):
                for name, value in state.items():
                    setattr(d, name, value)
        elif full.status in TERMINAL_STATUSES:
            break
    return kept


@pytest.mark.parametrize("name, orchestrator_fn, input_", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_a_kept_replay_decides_every_episode_as_a_replay_from_the_start(name, orchestrator_fn, input_):
    resumed = 0
    for seed in range(6):
        resumed += run_in_step(orchestrator_fn, input_, seed).resumed
    assert resumed > 0  # the kept path itself was taken


def test_the_kept_replay_carries_on_over_histories_read_back_from_stored_text():
    kept = KeptReplays()
    driver = Driver(hello_chain, replays=kept, reread=True)
    driver.episode()
    for task_id in range(3):
        driver.complete(task_id, f"Hello {task_id}")
        driver.episode()
    assert driver.status == RuntimeStatus.Completed
    assert kept.resumed == 3  # every episode after the first
    assert len(kept) == 0  # a finished instance keeps nothing


def test_changed_code_is_caught_with_the_same_words_by_a_kept_replay():
    def changed(context):
        yield context.call_activity("Hello", "Tokyo")
        yield context.call_activity("Bye", "Seattle")

    outputs = []
    for replays in (None, KeptReplays()):
        driver = Driver(hello_chain, replays=replays, reread=True, activities=frozenset({"Hello", "Bye"}))
        driver.episode()
        driver.complete(0, "Hello Tokyo")
        driver.episode()
        driver.complete(1, "Hello Seattle")
        driver.main = df.Orchestrator.create(changed)
        driver.episode()
        assert driver.status == RuntimeStatus.Failed
        outputs.append(driver.decisions[-1].output)
    assert outputs[0] == outputs[1] and "Non-Deterministic workflow detected" in outputs[0]


def test_the_kept_replays_are_bounded_by_the_events_and_ids_they_hold():
    kept = KeptReplays(max_size=30)  # a history of 6 events and 2 scheduled ids each after two episodes
    drivers = [Driver(hello_chain, instance_id=f"i{n}", replays=kept, reread=True) for n in range(5)]
    for driver in drivers:
        driver.episode()
        driver.complete(0, "Hello")
        driver.episode()
    assert 0 < len(kept) < 5


def test_a_wide_fan_out_is_not_kept():
    def fan_out(context):
        return (yield context.task_all([context.call_activity("Hello", n) for n in range(50)]))

    kept = KeptReplays(max_one=40)
    Driver(fan_out, replays=kept).episode()
    assert len(kept) == 0
    Driver(hello_chain, replays=kept).episode()
    assert len(kept) == 1


# -- the guards, on hand-made histories the SDK does not make today ------------------------------------------------
T = datetime(2024, 5, 1, tzinfo=timezone.utc)


def call(n: int) -> dict[str, Any]:
    return {"actionType": ActionType.CallActivity, "functionName": "Hello", "input": str(n)}


def state(replay: ActionReplay) -> tuple[Any, ...]:
    return (sorted(replay.scheduled), sorted(replay.open_ids), replay.cursor, replay.awaited_all())


def full(actions: list[dict[str, Any]], events: list[dict[str, Any]]) -> tuple[Any, ...]:
    replay = ActionReplay("e", actions, T, None)
    replay.replay(events)
    return state(replay)


FIRST = [ev.orchestrator_started(T), ev.execution_started(T, "i", "e", "O", None, None)]
SCHEDULED = [ev.task_scheduled(T, 0, "Hello", "0"), ev.orchestrator_completed(T)]


def test_a_replay_that_ran_out_of_actions_is_not_carried_on():
    """Its last action was done in history: a longer action list would have run on from there, mid-history."""
    kept = KeptReplays()
    news = [ev.orchestrator_started(T), ev.task_completed(T, 0, "1")]
    kept.replay("i", "e", [call(0)], T, None, FIRST, [])
    kept.replay("i", "e", [call(0)], T, None, FIRST + SCHEDULED, news)  # ran out: call 0 is done
    later = [ev.orchestrator_completed(T), ev.orchestrator_started(T)]
    got = kept.replay("i", "e", [call(0), call(1)], T, None, FIRST + SCHEDULED + news, later)
    assert state(got) == full([call(0), call(1)], FIRST + SCHEDULED + news + later)
    assert got.scheduled  # call 1 is the frontier


def test_a_kept_replay_whose_new_events_are_not_the_ones_committed_replays_from_the_start():
    """An episode rolled back, and another took its place with other news: its events replace the ones kept."""
    kept = KeptReplays()
    kept.replay("i", "e", [call(0)], T, None, FIRST, [])
    kept.replay("i", "e", [call(0)], T, None, FIRST + SCHEDULED, [ev.orchestrator_started(T)])  # kept, blocked
    assert kept.resumed == 1
    other = [ev.orchestrator_started(T + timedelta(seconds=1)), ev.task_completed(T, 0, "1")]
    got = kept.replay("i", "e", [call(0), call(1)], T, None, FIRST + SCHEDULED + other,
                      [ev.orchestrator_completed(T), ev.orchestrator_started(T)])
    assert kept.resumed == 1
    assert state(got) == full([call(0), call(1)], FIRST + SCHEDULED + other + [ev.orchestrator_completed(T),
                                                                                ev.orchestrator_started(T)])


def waits_for_two(context):
    return (yield context.task_all([context.call_activity("Hello", "a"), context.call_activity("Hello", "b")]))


@pytest.mark.parametrize("ending", ["terminated", "continued as new"])
def test_an_instance_that_ends_without_replaying_leaves_no_kept_replay_behind(ending):
    """A terminate ends the instance without a replay of its actions; continue-as-new starts a new execution: the
    replay kept for the old one must go (else it holds memory until evicted)."""
    def continues(context):
        yield context.task_all([context.call_activity("Hello", "a"), context.call_activity("Hello", "b")])
        context.continue_as_new(None)

    replays = KeptReplays()
    d = Driver(waits_for_two if ending == "terminated" else continues, replays=replays)
    d.episode()
    assert len(replays) == 1  # blocked on the task_all: kept

    if ending == "terminated":
        d.send(ev.execution_terminated(d.now, "stop"))
    else:
        d.complete(0, "a")
        d.complete(1, "b")
    outcome = d.episode()

    assert outcome.status in (RuntimeStatus.Terminated, RuntimeStatus.ContinuedAsNew)
    assert len(replays) == 0


def test_a_kept_replay_is_not_carried_on_for_another_set_of_activities():
    """The app's activities changed between two episodes (a reload took 'Hello' away): the replay starts over and
    refuses the call, as a replay from the start does, instead of carrying on past it."""
    replays = KeptReplays()
    d = Driver(waits_for_two, replays=replays)
    d.episode()
    d.complete(0, "a")
    d.activities = frozenset({"Other"})

    outcome = d.episode()

    assert outcome.status == RuntimeStatus.Failed and "Hello" in json.loads(outcome.output)
    assert replays.resumed == 0


def test_a_forgotten_replay_gives_its_room_back():
    def kept_size() -> int:
        probe = KeptReplays()
        Driver(waits_for_two, replays=probe).episode()
        return probe._size  # noqa: SLF001 (the size one kept replay takes, to set a limit that fits one and a half)

    size = kept_size()
    replays = KeptReplays(max_size=size * 3 // 2, max_one=size)
    Driver(waits_for_two, replays=replays).episode()
    replays.forget("inst-1")

    Driver(waits_for_two, instance_id="inst-2", replays=replays).episode()

    assert len(replays) == 1  # the first one's room was given back: the second fits


def test_a_replay_carries_on_when_nothing_was_written_after_the_events_it_replayed():
    """The history read back is exactly what the kept replay replayed (old history and its new events, nothing
    decided after them): nothing is left to replay but the new episode's news, and the kept replay carries on."""
    kept = KeptReplays()
    news = [ev.orchestrator_started(T), ev.task_completed(T, 0, "1")]
    kept.replay("i", "e", [call(0)], T, None, FIRST + SCHEDULED, [])
    assert kept.resumed == 0

    got = kept.replay("i", "e", [call(0), call(1)], T, None, FIRST + SCHEDULED, news)

    assert kept.resumed == 1
    assert state(got) == full([call(0), call(1)], FIRST + SCHEDULED + news)


def one_kept_size() -> int:
    """The size one kept replay of waits_for_two's first episode takes, to set limits it fills exactly."""
    probe = KeptReplays()
    Driver(waits_for_two, replays=probe).episode()
    (kept,) = probe._kept.values()  # noqa: SLF001
    return kept.size


def test_replays_that_fill_the_limits_exactly_are_all_kept():
    size = one_kept_size()
    replays = KeptReplays(max_size=2 * size, max_one=size)
    first, second = (Driver(waits_for_two, instance_id=f"inst-{n}", replays=replays) for n in (1, 2))
    first.episode()
    second.episode()
    assert len(replays) == 2


def test_the_least_recently_used_replay_goes_first():
    replays = KeptReplays(max_size=2 * one_kept_size())
    drivers = [Driver(waits_for_two, instance_id=f"inst-{n}", replays=replays) for n in (1, 2, 3)]
    for d in drivers:
        d.episode()
    assert len(replays) == 2

    for d in drivers:
        d.complete(0, "a")
    drivers[2].episode()
    drivers[1].episode()
    assert replays.resumed == 2  # the last two were kept
    drivers[0].episode()
    assert replays.resumed == 2  # the first was evicted: replayed from the start


@pytest.mark.parametrize("event, field, other", [
    (ev.task_scheduled(T, 0, "Hello", "0"), "EventId", 1),
    (ev.task_scheduled(T, 0, "Hello", "0"), "Name", "Other"),
    (ev.task_completed(T, 0, "1"), "TaskScheduledId", 1),
    (ev.timer_fired(T, 0, "2024-05-01T00:00:00Z"), "TimerId", 1),
    (ev.orchestrator_started(T), "Timestamp", "2024-05-01T00:00:01.0000000Z"),
    (ev.event_sent(T, 0, "@c@k", "op", '{"id":"a"}'), "Input", '{"id":"b"}'),
])
def test_events_that_differ_in_what_the_replay_reads_have_different_keys(event, field, other):
    """A kept replay carries on only over new events whose keys equal the ones it replayed (ActionReplay.key)."""
    assert ActionReplay.key(event) != ActionReplay.key(dict(event, **{field: other}))


@pytest.mark.parametrize("event, field, other", [
    (ev.task_completed(T, 0, "1"), "Result", "2"),
    (ev.task_completed(T, 0, "1"), "Timestamp", "2024-05-01T00:00:01.0000000Z"),
    (ev.task_scheduled(T, 0, "Hello", "0"), "Input", "1"),
])
def test_events_that_differ_only_in_what_the_replay_does_not_read_have_equal_keys(event, field, other):
    assert ActionReplay.key(event) == ActionReplay.key(dict(event, **{field: other}))

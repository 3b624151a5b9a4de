"""Replays the deterministic_apis example's Journal through the real SDK: current_utc_datetime comes from the
OrchestratorStarted of the episode in which a step first ran, new_uuid is the same on every replay, and
is_replaying follows IsPlayed (events before the last OrchestratorStarted)."""
from __future__ import annotations

import json
from pathlib import Path

from history import event_raised, execution_started, load_function, orchestrator_completed, orchestrator_started, replay

APP = Path(__file__).resolve().parents[1] / "apps" / "deterministic_apis"
journal = load_function(APP, "Journal")
JOB = {"steps": 3}


def history_after(events):
    """The history after `events` Next events, one episode each, an hour apart."""
    history = [orchestrator_started(0), execution_started("Journal", JOB)]
    for n in range(1, events + 1):
        history += [orchestrator_completed((n - 1) * 3600), orchestrator_started(n * 3600),
                    event_raised("Next", n, at=n * 3600)]
    return history


def run(history, instance_id="journal-1"):
    return replay(journal.main, history, input=json.dumps(JOB), instance_id=instance_id)


def test_each_step_takes_the_time_of_the_episode_it_first_ran_in():
    state = run(history_after(2))

    assert [e["time"] for e in state["customStatus"]] == [
        "2024-05-01T12:00:00+00:00", "2024-05-01T13:00:00+00:00", "2024-05-01T14:00:00+00:00"]


def test_is_replaying_is_true_only_for_steps_that_ran_before():
    for events in range(3):
        flags = [e["replaying"] for e in run(history_after(events))["customStatus"]]
        assert flags == [True] * events + [False]

    done = run(history_after(3))
    assert [e["replaying"] for e in done["output"]["journal"]] == [True, True, True]
    assert done["output"]["replayingAtTheEnd"] is False


def test_replays_give_the_same_uuids_and_times():
    first = run(history_after(1))["customStatus"]
    later = run(history_after(2))["customStatus"]
    again = run(history_after(2))["customStatus"]

    assert [(e["uuid"], e["time"]) for e in later[:2]] == [(e["uuid"], e["time"]) for e in first]
    assert later == again
    assert len({e["uuid"] for e in later}) == 3


def test_uuids_depend_on_the_instance():
    first_uuid = {name: run(history_after(0), name)["customStatus"][0]["uuid"] for name in ("a", "b")}

    assert first_uuid["a"] != first_uuid["b"]

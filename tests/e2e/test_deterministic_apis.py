"""Replay-safe APIs end to end against devhost running tests/apps/deterministic_apis: in every episode the
orchestrator is replayed from the start, and current_utc_datetime, new_uuid and the custom status it computes
for past steps must come out the same, with is_replaying True for the replayed steps and False for the new one."""
from __future__ import annotations

from pathlib import Path

from azure.durable_functions.models.OrchestrationRuntimeStatus import (
    OrchestrationRuntimeStatus,
)

from devhost.testing import app_host, poll, timestamp

APP = Path(__file__).resolve().parents[1] / "apps" / "deterministic_apis"
HOUR = 3600
host = app_host(APP)


def journal_of_length(host, instance_id, n):
    def check():
        journal = host.status(instance_id)["customStatus"] or []
        return journal if len(journal) == n else None

    return poll(check, timeout=10, what=f"a journal of {n} steps")


def test_every_episode_replays_the_same_times_and_uuids(host):
    instance_id = host.start_instance("Journal", {"steps": 4})
    episodes = [journal_of_length(host, instance_id, 1)]
    for step in range(1, 4):
        host.advance(HOUR)  # durable time moves on between the steps
        assert host.raise_event(instance_id, "Next", step).status_code == 202
        episodes.append(journal_of_length(host, instance_id, step + 1))
    host.advance(HOUR)
    host.raise_event(instance_id, "Next", 4)
    final = host.wait(instance_id)

    assert final["runtimeStatus"] == "Completed"
    journal = final["output"]["journal"]
    for k, episode in enumerate(episodes):
        # Replayed steps come out exactly as when they first ran...
        assert [(e["time"], e["uuid"]) for e in episode] == [(e["time"], e["uuid"]) for e in journal[:k + 1]]
        # ...and only the step reached for the first time in this episode is not replaying.
        assert [e["replaying"] for e in episode] == [True] * k + [False]
    assert [e["replaying"] for e in journal] == [True] * 4
    assert final["output"]["replayingAtTheEnd"] is False
    assert len({e["uuid"] for e in journal}) == 4
    times = [timestamp(e["time"]) for e in journal]
    assert all((later - earlier).total_seconds() >= HOUR for earlier, later in zip(times, times[1:]))
    assert abs((times[0] - timestamp(final["createdTime"])).total_seconds()) < 2
    assert final["customStatus"] == journal


def test_the_same_through_the_sdk_client(host):
    instance_id = host.sdk(lambda client: client.start_new("Journal", None, {"steps": 2}))
    first = journal_of_length(host, instance_id, 1)

    host.sdk(lambda client: client.raise_event(instance_id, "Next"))
    second = journal_of_length(host, instance_id, 2)
    host.sdk(lambda client: client.raise_event(instance_id, "Next"))
    host.wait(instance_id)
    status = host.sdk(lambda client: client.get_status(instance_id))

    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert second[0] == dict(first[0], replaying=True)
    assert status.custom_status == status.output["journal"]
    assert [e["uuid"] for e in status.output["journal"]] == [e["uuid"] for e in second]


def test_two_instances_get_different_uuids(host):
    ids = [host.start_instance("Journal", {"steps": 1}) for _ in range(2)]

    uuids = [journal_of_length(host, i, 1)[0]["uuid"] for i in ids]

    assert uuids[0] != uuids[1]
    for instance_id in ids:
        host.raise_event(instance_id, "Next")
        assert host.wait(instance_id)["runtimeStatus"] == "Completed"

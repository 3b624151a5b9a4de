"""devhost.testing, the harness users hold: every factory hands back the same Client type, and the client says
whether it can move durable time (as temporalio's test environment says whether it can skip time)."""
from __future__ import annotations

from pathlib import Path

import pytest

from devhost.testing import Client, DevhostProcess, TimeTravelUnsupported, from_url, start_local, start_time_travel

TIMERS = Path(__file__).resolve().parents[1] / "apps" / "timers"


def test_a_host_started_with_time_travel_moves_durable_time(local_only):
    with start_time_travel(TIMERS) as host:
        assert isinstance(host, Client) and host.supports_time_travel
        instance_id = host.start_instance("Countdown", {"seconds": 3600})
        host.wait(instance_id, statuses=("Running",))

        host.advance(3600)

        assert host.wait(instance_id)["runtimeStatus"] == "Completed"


def test_a_host_in_real_time_refuses_to_advance_and_says_how_to_get_time_travel(local_only):
    with start_local(TIMERS) as host:
        assert isinstance(host, Client) and not host.supports_time_travel
        with pytest.raises(TimeTravelUnsupported, match="start_time_travel"):
            host.advance(60)


def test_a_host_reached_by_url_is_the_same_client_without_time_travel():
    client = from_url("http://127.0.0.1:9/", key="k")

    assert type(client) is Client and not client.supports_time_travel
    assert client.url("/api/x") == "http://127.0.0.1:9/api/x" and client.http.headers["x-functions-key"] == "k"
    with pytest.raises(TimeTravelUnsupported):
        client.advance(1)


def test_with_on_a_started_host_does_not_start_it_twice(local_only):
    host = start_local(TIMERS)
    with host as same:
        assert same is host and host.running
    assert not host.running and isinstance(host, DevhostProcess)


def test_every_status_read_returns_the_status_json_and_the_raw_answer_is_asked_for_by_name(devhost):
    instance_id = devhost.start_instance("HelloOrchestrator")

    done = devhost.wait(instance_id)
    status = devhost.status(instance_id, showHistory=True)

    assert isinstance(done, dict) and isinstance(status, dict)
    assert status["runtimeStatus"] == done["runtimeStatus"] == "Completed"
    assert status["historyEvents"][0]["EventType"] == "ExecutionStarted"
    assert devhost.history(instance_id) == devhost.status(instance_id, showHistory=True,
                                                          showHistoryOutput=True)["historyEvents"]
    assert devhost.status("no-such-instance") is None
    assert devhost.status_response(instance_id).status_code == 200
    assert devhost.status_response("no-such-instance").status_code == 404

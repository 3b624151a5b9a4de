"""Timer triggers end to end (tests/apps/scheduled, folder model; a v2 twin in tests/apps/scheduled_v2): listed at
start with their next occurrence, fired by --time-travel, runOnStartup and %setting% schedules, starting
orchestrations through their durableClient input, with a Twilio output accepted and dropped."""
from __future__ import annotations

from pathlib import Path

import pytest

from devhost.testing import app_host, poll

APPS = Path(__file__).resolve().parents[1] / "apps"
folder_host = app_host(APPS / "scheduled")
v2_host = app_host(APPS / "scheduled_v2")
WEBHOOK = "/runtime/webhooks/durabletask"


@pytest.fixture(params=["folder", "v2"])
def host(request):
    return request.getfixturevalue(f"{request.param}_host")


def reports(host, source):
    """Outputs of the completed Report orchestrations the timer `source` started."""
    listed = host.http.get(host.url(f"{WEBHOOK}/instances"), params={"runtimeStatus": "Completed", "top": 1000},
                           timeout=10).json()
    return [i["output"] for i in listed if i["name"] == "Report" and i["output"]["source"] == source]


def test_timers_are_listed_with_their_schedule_and_next_occurrence(host):
    log = host.log()

    assert "\tHourly: timerTrigger (0 0 * * * *; next " in log
    assert "\tNightly: timerTrigger (0 30 2 * * *; next " in log and " 02:30:00 UTC)" in log
    assert "\tQueueWorker: not loaded (devhost cannot fire queueTrigger triggers)" in log
    assert "output binding 'message' (twilioSms) is accepted and dropped" in log


def test_run_on_startup_fires_once_at_start_from_a_setting_schedule(host):
    [run] = poll(lambda: reports(host, "Nightly"), what="the runOnStartup run of Nightly")

    assert run == {"source": "Nightly", "pastDue": False, "last": None, "sent": "Nightly ran"}


def test_time_travel_fires_the_hourly_timer_and_a_long_jump_is_past_due(host):
    def counts():
        runs = reports(host, "Hourly")
        return len(runs), sum(r["pastDue"] for r in runs)

    total, past_due = counts()

    host.advance(3600)  # crosses one hour mark: an on-time run
    poll(lambda: counts()[0] > total, what="the next hourly run")
    assert counts()[1] == past_due
    total = counts()[0]
    host.advance(3 * 3600)  # crosses three: one run, past due, as after a machine slept through them
    poll(lambda: counts()[0] > total, what="the past-due run")

    assert counts() == (total + 1, past_due + 1)
    assert {r["sent"] for r in reports(host, "Hourly")} >= {"Hourly ran", "Hourly ran late"}

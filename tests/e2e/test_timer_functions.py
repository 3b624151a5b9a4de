"""Timer triggers end to end (tests/apps/scheduled, folder model; a v2 twin in tests/apps/scheduled_v2): listed at
start with their next occurrence, fired by --time-travel, runOnStartup and %setting% schedules, starting
orchestrations through their durableClient input, with a Twilio output accepted and dropped."""
from __future__ import annotations

import json
import time
from contextlib import closing
from pathlib import Path

import pytest

from devhost.runtime.store.sqlite import SqliteStore
from devhost.testing import WEBHOOK, app_host, poll, timestamp

APPS = Path(__file__).resolve().parents[1] / "apps"
folder_host = app_host(APPS / "scheduled")
v2_host = app_host(APPS / "scheduled_v2")


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


def test_time_travel_fires_the_hourly_timer_on_time(host):
    def counts():
        runs = reports(host, "Hourly")
        return len(runs), sum(r["pastDue"] for r in runs)

    total, past_due = counts()

    host.advance(3600)  # crosses one hour mark: one on-time run (past-due runs: tests/devhost/runtime/test_timer_triggers.py)
    poll(lambda: counts()[0] > total, what="the next hourly run")

    assert counts()[1] == past_due
    assert "Hourly ran" in {r["sent"] for r in reports(host, "Hourly")}
    assert host.log().count("Executed 'Functions.Hourly' (Succeeded, IsPastDue=False)") >= 1


def test_a_run_missed_while_devhost_was_stopped_fires_past_due_at_the_next_start(devhost_factory, tmp_path):
    app = tmp_path / "monitored"
    (app / "Tick").mkdir(parents=True)
    (app / "host.json").write_text('{"version": "2.0"}')
    (app / "Tick" / "function.json").write_text(
        '{"bindings": [{"name": "timer", "type": "timerTrigger", "direction": "in", "schedule": "*/2 * * * * *",'
        ' "useMonitor": true}]}')
    (app / "Tick" / "__init__.py").write_text(
        "import logging\n\n\ndef main(timer):\n    logging.warning('tick past_due=%s', timer.past_due)\n")
    store = tmp_path / "store.sqlite"
    devhost_factory(app, store=store).start().stop()
    with closing(SqliteStore(store)) as kept:
        next_run = timestamp(json.loads(kept.get_setting("timer_status:Tick"))["Next"]).timestamp()
    poll(lambda: time.time() > next_run + 0.1, timeout=5, what="the monitored occurrence to go by")

    second = devhost_factory(app, store=store).start()

    poll(lambda: "tick past_due=True" in second.log(), what="the past-due run at start")


def test_time_travel_steps_through_every_hourly_occurrence_on_time(host):
    before = len(reports(host, "Hourly"))

    travel = host.advance(3 * 3600)  # stepwise: each hour mark is reached in turn, so each run is on time

    assert travel["settled"] and travel["steps"] >= 3
    runs = reports(host, "Hourly")[before:]  # no polling: the advance answered once the runs were done
    assert [r["pastDue"] for r in runs] == [False, False, False]


def test_a_jump_made_at_once_runs_a_timer_once_past_due(host):
    def counts():
        runs = reports(host, "Hourly")
        return len(runs), sum(r["pastDue"] for r in runs)

    total, past_due = counts()

    travel = host.advance(3 * 3600, stepwise=False)  # as a machine sleeping through three hour marks

    assert travel["settled"]
    poll(lambda: counts()[0] > total, what="the past-due run")
    assert counts() == (total + 1, past_due + 1)

"""The replay check end to end: histories recorded by real devhost processes running the example apps (chains,
fan-out, timers, waits for events, sub-orchestrations, entities, retries, continue-as-new), then
`python -m devhost replay` run on copies of the apps with one change each, against every kind of source: the store
file (read while its devhost runs), the JSON a status answer exports, and the running host's management API URL.
One host per app for the whole module."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devhost.testing import WEBHOOK, DevhostProcess, assert_replays, poll, replay_histories

APPS = Path(__file__).resolve().parents[1] / "apps"
ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("store", "json", "url")


class Recording:
    """A devhost running one example app, the instances it ran, and their exports in a folder."""

    def __init__(self, app: str, folder: Path) -> None:
        self.app = APPS / app
        self.folder = folder
        self.host = DevhostProcess(self.app, store=folder / "store.sqlite").start()
        self.ids: dict[str, str] = {}

    def run(self, label: str, orchestrator: str, body: object, until: str | None = None) -> str:
        """Start an instance; wait until it finished, or (until=an EventType) until its history has that."""
        instance_id = self.host.start_instance(orchestrator, body)
        if until is None:
            assert self.host.wait(instance_id)["runtimeStatus"] == "Completed"
        else:
            poll(lambda: until in self.host.event_kinds(instance_id), timeout=15, what=f"{label} to reach {until}")
        self.ids[label] = instance_id
        return instance_id

    def export(self) -> Path:
        """Every recorded instance's export, in the folder the JSON source reads."""
        exports = self.folder / "exports"
        for instance_id in self.ids.values():
            self.host.record_history(instance_id, exports)
        return exports

    def source(self, kind: str) -> str:
        return {"store": str(self.host.store), "json": str(self.folder / "exports"),
                "url": self.host.url(WEBHOOK)}[kind]

    def sources(self) -> list[str]:
        """One of each kind: every instance is checked three times, once from each (a run of the check each would
        be three times as slow)."""
        return [self.source(kind) for kind in SOURCES]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    made: dict[str, Recording] = {}

    def record(app: str) -> Recording:
        if app not in made:
            made[app] = Recording(app, tmp_path_factory.mktemp(app))
            SCENARIOS[app](made[app])
            made[app].export()
        return made[app]

    yield record
    for recording in made.values():
        recording.host.close()


def _soak(r: Recording) -> None:
    r.run("waiting", "Mixed", {"k": 1, "fan": 3, "tally": "t", "timer": 3600}, until="TimerCreated")
    r.run("done", "Mixed", {"k": 2, "fan": 3, "tally": "t", "timer": 0})


def _human(r: Recording) -> None:
    r.run("waiting", "ApprovalWorkflow", {"item": "laptop"}, until="TaskCompleted")
    approved = r.run("approved", "ApprovalWorkflow", {"item": "phone"}, until="TaskCompleted")
    assert r.host.raise_event(approved, "Approval", {"approved": True}).status_code == 202
    assert r.host.wait(approved)["runtimeStatus"] == "Completed"


SCENARIOS = {
    "soak": _soak,  # a chain, a fan-out, a sub-orchestration, an entity signal, a durable timer
    "human_interaction": _human,
    "fan_out_fan_in": lambda r: r.run("fan", "FanOutFanIn", {"count": 12}),
    "counter_entity": lambda r: r.run("calls", "CounterOrchestrator", {"key": "k", "signals": [1, 2], "add": 3}),
    "retries": lambda r: r.run("retried", "RetryActivity", {"dir": str(r.folder), "failures": 2,
                                                            "interval_ms": 10}),
    "continue_as_new": lambda r: r.run("continued", "Counter", {"count": 0, "limit": 3}),
    "sub_orchestrations": lambda r: r.run("children", "Parent", ["Tokyo", "Seattle"]),
    "timers": lambda r: r.run("timer", "Countdown", {"seconds": 3600}, until="TimerCreated"),
}


def variant(tmp_path: Path, app: Path, edits: dict[str, list[tuple[str, str]]]) -> Path:
    """A copy of the app with each file's text replaced as told (each old text must be there)."""
    root = tmp_path / app.name
    shutil.copytree(app, root, ignore=shutil.ignore_patterns(".devhost", "__pycache__"))
    for name, changes in edits.items():
        path = root / name
        text = path.read_text()
        for old, new in changes:
            assert old in text, f"{old!r} not in {name}"
            text = text.replace(old, new)
        path.write_text(text)
    return root


def replay(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "devhost", "replay", "--script-root", str(root), *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize("app", sorted(SCENARIOS))
def test_the_unchanged_code_replays_every_recorded_history(recordings, app):
    recording = recordings(app)

    done = replay(recording.app, *recording.sources(), "--status", "Running,Completed")

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    checked = [line.split()[1] for line in lines[:-1]]  # a store and a task hub also hold the sub-orchestrations
    assert all(checked.count(instance_id) == len(SOURCES) for instance_id in recording.ids.values()), lines
    assert all(re.fullmatch(r"ok \S+ \S+ \(\d+ events\)", line) for line in lines[:-1]), lines
    assert lines[-1] == f"{len(checked)} instance{'s' * (len(checked) > 1)} checked: {len(checked)} replay, 0 diverged"


MIXED = "Mixed/__init__.py"
FIRST_CALL = 'first = yield context.call_activity("Add", [k, 1])'
TIMER = "yield context.create_timer(context.current_utc_datetime + timedelta(seconds=spec[\"timer\"]))"
CHILD = 'child = yield context.call_sub_orchestrator("Child", k)'
FAN = 'parts = yield context.task_all([context.call_activity("Add", [i, k]) for i in range(spec["fan"])])'
DIVERGENT = {
    "activity renamed": ({MIXED: [(FIRST_CALL, FIRST_CALL.replace('"Add"', '"Plus"'))]},
                         r"the history has activity 'Add' \(TaskScheduled, event id 0\), the code now calls "
                         r"activity 'Plus'"),
    "two calls reordered": ({MIXED: [(FAN, "PLACEHOLDER"), (CHILD, FAN), ("PLACEHOLDER", CHILD)]},
                            r"the history has activity 'Add' \(TaskScheduled, event id 2\), the code now calls "
                            r"sub-orchestration 'Child'"),
    "a call inserted before": ({MIXED: [(FIRST_CALL, "yield context.create_timer(context.current_utc_datetime)\n"
                                                     "    " + FIRST_CALL)]},
                               r"the history has activity 'Add' \(TaskScheduled, event id 0\), the code now creates "
                               r"a durable timer"),
    "timer replaced by an activity": ({MIXED: [(TIMER, 'yield context.call_activity("Add", [0, 0])')]},
                                      r"the history has a durable timer until \S+ \(TimerCreated, event id 7\), "
                                      r"the code now calls activity 'Add'"),
    "sub-orchestration renamed": ({MIXED: [(CHILD, CHILD.replace('"Child"', '"Kid"'))]},
                                  r"the history has sub-orchestration 'Child' \(SubOrchestrationInstanceCreated, "
                                  r"event id 5\), the code now calls sub-orchestration 'Kid'"),
}


@pytest.mark.parametrize("change", sorted(DIVERGENT))
def test_an_unsafe_change_is_reported_at_the_event_it_breaks(recordings, tmp_path, change):
    recording = recordings("soak")
    edits, message = DIVERGENT[change]
    changed = variant(tmp_path, recording.app, edits)

    done = replay(changed, *recording.sources(), "--status", "Running,Completed")

    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for label in ("waiting", "done"):
        found = [line for line in lines if recording.ids[label] in line]
        assert len(found) == len(SOURCES), lines
        for line in found:
            assert re.fullmatch(rf"diverged {recording.ids[label]} Mixed at event \d+: {message}", line), line
    assert re.fullmatch(r"\d+ instances checked: \d+ replay, 6 diverged", lines[-1])  # the children replay


def test_a_renamed_event_is_reported_where_the_history_has_the_instance_complete(recordings, tmp_path):
    recording = recordings("human_interaction")
    changed = variant(tmp_path, recording.app, {"ApprovalWorkflow/__init__.py": [
        ('wait_for_external_event("Approval")', 'wait_for_external_event("Approved")')]})

    done = replay(changed, *recording.sources(), "--status", "Running,Completed")

    assert done.returncode == 1, done.stdout + done.stderr
    approved = [line for line in done.stdout.splitlines() if recording.ids["approved"] in line]
    assert len(approved) == len(SOURCES)
    for line in approved:
        assert re.fullmatch(rf"diverged {recording.ids['approved']} ApprovalWorkflow at event \d+: the history has "
                            r"the orchestration completed, the code now goes on: it waits for event 'Approved'", line)
    # the instance still waiting has recorded nothing about the wait: the rename cannot be seen in its history
    assert done.stdout.count(f"ok {recording.ids['waiting']} ApprovalWorkflow") == len(SOURCES)


SAFE = {
    "an activity's body changed": {"Add/__init__.py": [("return pair[0] + pair[1]", "return sum(pair) * 2")]},
    "logging added": {MIXED: [("import azure.durable_functions as df", "import logging\n\nimport azure.durable_"
                                                                       "functions as df"),
                              (FIRST_CALL, 'logging.info("replaying: %s", context.is_replaying)\n    ' + FIRST_CALL
                               + '\n    logging.warning("first: %s", first)')]},
    "code added after the last recorded step": {MIXED: [(TIMER, TIMER + '\n    yield context.call_activity('
                                                                '"Add", [0, 0])')]},
}


@pytest.mark.parametrize("change", sorted(SAFE))
def test_a_safe_change_replays_the_running_instance(recordings, tmp_path, change):
    recording = recordings("soak")
    changed = variant(tmp_path, recording.app, SAFE[change])

    done = replay(changed, *recording.sources(), "--instance", recording.ids["waiting"])

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4, lines
    assert all(re.fullmatch(rf"ok {recording.ids['waiting']} Mixed \(\d+ events\)", line) for line in lines[:3])
    assert lines[3] == "3 instances checked: 3 replay, 0 diverged"


def test_code_added_after_the_end_of_a_finished_instance_is_reported(recordings, tmp_path):
    recording = recordings("soak")
    changed = variant(tmp_path, recording.app, SAFE["code added after the last recorded step"])

    done = replay(changed, recording.source("store"), "--instance", recording.ids["done"])

    assert done.returncode == 1
    assert "the history has the orchestration completed, the code now goes on: it calls activity 'Add'" in done.stdout


def test_the_store_is_read_while_its_devhost_runs_and_it_carries_on(recordings):
    recording = recordings("soak")

    done = replay(recording.app, recording.source("store"), "--instance", recording.ids["waiting"])
    instance_id = recording.host.start_instance("Child", 1)

    assert done.returncode == 0
    assert recording.host.wait(instance_id)["output"] == 101


def test_a_source_that_cannot_be_read_is_a_usage_error(recordings, tmp_path):
    recording = recordings("soak")
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "other.sqlite").write_bytes(b"SQLite format 3\x00" + bytes(200))

    missing = replay(recording.app, str(tmp_path / "nowhere.sqlite"))
    broken = replay(recording.app, str(tmp_path / "broken.json"))
    foreign = replay(recording.app, str(tmp_path / "other.sqlite"))

    assert (missing.returncode, broken.returncode, foreign.returncode) == (2, 2, 2)
    assert "nowhere.sqlite: no such file, folder or URL" in missing.stderr
    assert "broken.json: cannot read it as JSON" in broken.stderr
    assert "other.sqlite" in foreign.stderr


def test_an_orchestrator_the_app_no_longer_has_is_a_usage_error(recordings, tmp_path):
    recording = recordings("soak")
    changed = variant(tmp_path, recording.app, {})
    shutil.rmtree(changed / "Mixed")

    done = replay(changed, recording.source("store"))

    assert done.returncode == 2
    assert f"instance {recording.ids['waiting']}: orchestrator 'Mixed' is not in the app" in done.stderr


def test_the_console_script_form_and_the_host_flags_still_parse():
    assert "replay" in subprocess.run([sys.executable, "-m", "devhost", "--help"], capture_output=True, text=True,
                                      cwd=ROOT).stdout
    usage = subprocess.run([sys.executable, "-m", "devhost", "replay"], capture_output=True, text=True, cwd=ROOT)
    assert usage.returncode == 2 and "SOURCE" in usage.stderr


def test_the_harness_records_histories_and_asserts_they_replay(recordings, tmp_path):
    recording = recordings("human_interaction")
    folder = tmp_path / "histories"
    saved = recording.host.record_history(recording.ids["approved"], folder)
    renamed = variant(tmp_path, recording.app, {"ApprovalWorkflow/__init__.py": [
        ('wait_for_external_event("Approval")', 'wait_for_external_event("Approved")')]})

    assert_replays(recording.app, folder)
    with pytest.raises(AssertionError, match=r"1 of 1 recorded histories diverge:\ndiverged .* at event 4"):
        assert_replays(renamed, folder)
    [result] = replay_histories(renamed, saved)
    assert (result["ok"], result["at"], result["instanceId"]) == (False, 4, recording.ids["approved"])

"""Reload on change, as the Functions host restarts when the app's files change: an edited activity, a new
function.json and a changed local.settings.json are picked up without a restart by hand, with one log line saying
what changed, and an instance waiting across the reload finishes; --no-reload and --in-process leave the code as
it was and say so."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from devhost.testing import DevhostProcess, poll

ROOT = Path(__file__).resolve().parents[2]
WAITER = '''import azure.durable_functions as df


def orchestrator_function(context):
    name = yield context.wait_for_external_event("Name")
    return (yield context.call_activity("Hello", name))


main = df.Orchestrator.create(orchestrator_function)
'''
GREETING_ACTIVITY = '''import os


def main(name: str) -> str:
    return f"{os.environ.get('GREETING', 'Hi')} {name}!"
'''


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """The repository's Hello app, copied so the test can edit it, plus an orchestrator that waits for an event."""
    root = tmp_path / "app"
    for name in ("DurableFunctionsHttpStart", "HelloOrchestrator", "Hello"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "host.json", root / "host.json")
    shutil.copytree(ROOT / "HelloOrchestrator", root / "Waiter")
    (root / "Waiter" / "__init__.py").write_text(WAITER)
    return root


def restarts(host: DevhostProcess, count: int, what: str) -> None:
    """Wait until the host logged `count` restarts and answers again."""
    poll(lambda: host.log().count("changed: restarting") >= count, timeout=30, what=f"a reload after {what}")
    poll(lambda: host.log().count("devhost ready on") >= count + 1, timeout=60, what="the host to be ready again")


def greetings(host: DevhostProcess) -> list[str]:
    return host.wait(host.start_instance("HelloOrchestrator"), timeout=30)["output"]


def test_an_edit_reloads_the_app_and_an_instance_waiting_across_the_reload_finishes(app, tmp_path):
    with DevhostProcess(app, store=tmp_path / "store.sqlite", reload=True) as host:
        assert greetings(host) == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
        waiting = host.start_instance("Waiter")
        host.wait(waiting, statuses=("Running",))

        (app / "Hello" / "__init__.py").write_text('def main(name: str) -> str:\n    return f"Bonjour {name}!"\n')
        restarts(host, 1, "the activity's edit")

        assert "devhost: Hello/__init__.py changed: restarting" in host.log()
        assert greetings(host) == ["Bonjour Tokyo!", "Bonjour Seattle!", "Bonjour London!"]
        assert host.raise_event(waiting, "Name", "Paris").status_code == 202
        assert host.wait(waiting, timeout=30)["output"] == "Bonjour Paris!"


def test_a_new_function_and_changed_settings_are_read_again(app, tmp_path):
    with DevhostProcess(app, store=tmp_path / "store.sqlite", reload=True) as host:
        shutil.copytree(app / "Hello", app / "Greet")
        (app / "Greet" / "__init__.py").write_text(GREETING_ACTIVITY)
        restarts(host, 1, "a new function")
        (app / "HelloOrchestrator" / "__init__.py").write_text(
            (app / "HelloOrchestrator" / "__init__.py").read_text().replace('"Hello"', '"Greet"'))
        restarts(host, 2, "the orchestrator's edit")
        assert greetings(host) == ["Hi Tokyo!", "Hi Seattle!", "Hi London!"]

        (app / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": {"GREETING": "Hey"}}))
        restarts(host, 3, "local.settings.json")

        assert "local.settings.json changed" in host.log()
        assert greetings(host) == ["Hey Tokyo!", "Hey Seattle!", "Hey London!"]


def test_with_no_reload_an_edit_changes_nothing_and_the_banner_says_so(app, tmp_path):
    with DevhostProcess(app, store=tmp_path / "store.sqlite") as host:  # the harness's default: --no-reload
        (app / "Hello" / "__init__.py").write_text('def main(name: str) -> str:\n    return f"Bonjour {name}!"\n')

        assert greetings(host) == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
        assert "Reload on change: off (--no-reload)" in host.log() and "changed: restarting" not in host.log()


def test_in_process_says_reload_is_off(app, tmp_path):
    with DevhostProcess(app, store=tmp_path / "store.sqlite", reload=True, extra_args=("--in-process",)) as host:
        assert "Reload on change: off with --in-process" in host.log()

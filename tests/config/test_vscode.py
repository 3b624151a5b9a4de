"""Checks .vscode: every file is plain JSON, and F5's tasks and settings fit together."""

import json
from pathlib import Path

import pytest

VSCODE = Path(__file__).resolve().parents[2] / ".vscode"


def load(name):
    return json.loads((VSCODE / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted(VSCODE.glob("*.json")), ids=lambda p: p.name)
def test_every_file_parses_as_json(path):
    assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict)


def test_the_four_files_are_there():
    assert {p.name for p in VSCODE.glob("*.json")} >= {
        "extensions.json", "settings.json", "tasks.json", "launch.json"}


def test_recommends_the_functions_python_and_debugger_extensions():
    assert set(load("extensions.json")["recommendations"]) >= {
        "ms-azuretools.vscode-azurefunctions", "ms-python.python", "ms-python.debugpy"}


def test_settings_describe_a_python_v4_project_in_dot_venv():
    settings = load("settings.json")
    assert settings["azureFunctions.deploySubpath"] == "."
    assert settings["azureFunctions.scmDoBuildDuringDeployment"] is True
    assert settings["azureFunctions.pythonVenv"] == ".venv"
    assert settings["azureFunctions.projectLanguage"] == "Python"
    assert settings["azureFunctions.projectRuntime"] == "~4"


def test_every_pre_launch_task_and_dependency_is_a_task():
    labels = {task["label"] for task in load("tasks.json")["tasks"]}
    named = [c["preLaunchTask"] for c in load("launch.json")["configurations"]
             if "preLaunchTask" in c]
    depends = [task["dependsOn"] for task in load("tasks.json")["tasks"] if "dependsOn" in task]

    assert named, "no launch configuration starts a task"
    assert set(named) <= labels
    assert set(depends) <= labels


def test_attach_configuration_matches_func_host_start():
    attach = next(c for c in load("launch.json")["configurations"]
                  if c["name"] == "Attach to Python Functions")
    assert attach["type"] == "debugpy" and attach["request"] == "attach"
    assert attach["connect"] == {"host": "localhost", "port": 9091}
    assert attach["preLaunchTask"] == "func: host start"

    start = next(t for t in load("tasks.json")["tasks"] if t["label"] == "func: host start")
    assert (start["type"], start["command"], start["isBackground"]) == ("func", "host start", True)
    assert start["problemMatcher"] == "$func-python-watch"
    assert start["dependsOn"] == "pip install (functions)"

"""devhost.app.discovery: which programming model an app is loaded with, as the Python worker decides it: a v2 script
that declares functions wins over function.json folders; a script that declares none, or no script, leaves the
folders."""
from __future__ import annotations

import json

import pytest

from devhost.app.discovery import load_functions

pytestmark = pytest.mark.usefixtures("isolated_imports")

V2_APP = """import azure.functions as func

app = func.FunctionApp()


@app.function_name("FromScript")
@app.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hi")
"""


def folder_function(root, name="Folder"):
    folder = root / name
    folder.mkdir()
    (folder / "__init__.py").write_text("def main(name: str) -> str:\n    return name\n")
    (folder / "function.json").write_text(json.dumps({"scriptFile": "__init__.py", "bindings": [
        {"name": "name", "type": "activityTrigger", "direction": "in"}]}))


def test_a_script_with_functions_hides_the_function_json_folders(tmp_path):
    (tmp_path / "function_app.py").write_text(V2_APP)
    folder_function(tmp_path)

    assert list(load_functions(tmp_path).functions) == ["FromScript"]


def test_a_script_without_functions_falls_back_to_the_folders(tmp_path):
    (tmp_path / "function_app.py").write_text("import azure.functions as func\n\napp = func.FunctionApp()\n")
    folder_function(tmp_path)

    assert list(load_functions(tmp_path).functions) == ["Folder"]


def test_without_a_script_the_folders_are_the_app(tmp_path):
    folder_function(tmp_path)

    assert list(load_functions(tmp_path).functions) == ["Folder"]

"""devhost.app.indexing: a v2 app's functions come from azure.functions' own Function objects (names, renames,
Blueprints, binding descriptions), and the worker's rules decide between the two programming models."""
from __future__ import annotations

import asyncio
import json
import sys
import textwrap

import pytest
from azure.functions import meta

from devhost.app.bindings import Invocation, client_inputs, http_datum
from devhost.app.discovery import load_functions
from devhost.app.indexing import SCRIPT_SETTING, index_app, nothing_loaded

pytestmark = pytest.mark.usefixtures("isolated_imports")

APP = '''
import azure.functions as func
import azure.durable_functions as df

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="start/{name}", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client):
    return func.HttpResponse(client.task_hub_name if hasattr(client, "task_hub_name") else type(client).__name__)


@app.orchestration_trigger(context_name="context")
def orchestrator(context):
    return (yield context.call_activity("Renamed", "x"))


@app.function_name("Renamed")
@app.activity_trigger(input_name="value")
def original_name(value: str) -> str:
    return value.upper()


@app.activity_trigger(input_name="value")
async def async_activity(value: str) -> str:
    return value + "!"


@app.entity_trigger(context_name="context")
def counter(context):
    context.set_result(1)
'''


def write_app(root, code=APP, script="function_app.py", **files):
    root.mkdir(parents=True, exist_ok=True)
    (root / "host.json").write_text('{"version": "2.0"}')
    (root / script).write_text(textwrap.dedent(code))
    for name, text in files.items():
        (root / f"{name}.py").write_text(textwrap.dedent(text))
    return root


def write_folder_function(root, name="Folder"):
    (root / name).mkdir(parents=True)
    (root / name / "function.json").write_text(json.dumps({"bindings": [{"name": "x", "type": "activityTrigger"}]}))
    (root / name / "__init__.py").write_text("def main(x):\n    return x\n")


def call(fn, inputs):
    async def run():
        return await Invocation(fn).call(inputs)

    return asyncio.run(run())


def test_functions_are_named_and_described_by_azure_functions(tmp_path):
    report = index_app(write_app(tmp_path))

    assert sorted(report.functions) == ["Renamed", "async_activity", "counter", "http_start", "orchestrator"]
    assert report.skipped == []
    starter = report.functions["http_start"].spec
    assert starter.kind == "http" and starter.directory == str(tmp_path) and starter.script_file == "function_app.py"
    assert starter.trigger.raw == {"direction": "IN", "type": "httpTrigger", "name": "req", "methods": ["POST"],
                                   "authLevel": "FUNCTION", "route": "start/{name}"}
    assert [(b.name, b.type, b.direction) for b in starter.bindings] == [
        ("client", "durableClient", "in"), ("req", "httpTrigger", "in"), ("$return", "http", "out")]
    assert [report.functions[n].spec.kind for n in ("orchestrator", "Renamed", "counter")] == [
        "orchestration", "activity", "entity"]


def test_a_renamed_function_runs_its_user_function_under_the_new_name(tmp_path):
    renamed = index_app(write_app(tmp_path)).functions["Renamed"]

    outputs = call(renamed, {"value": meta.Datum('"abc"', "json")})

    assert renamed.spec.entry_point == "original_name"
    assert outputs["value"].value == '"ABC"'


def test_sync_and_async_user_functions_both_run(tmp_path):
    report = index_app(write_app(tmp_path))

    assert call(report.functions["async_activity"], {"value": meta.Datum('"a"', "json")})["value"].value == '"a!"'


def test_the_durable_client_input_receives_the_sdk_client_built_from_the_payload(tmp_path):
    starter = index_app(write_app(tmp_path)).functions["http_start"]
    payload = json.dumps({"taskHubName": "Hub", "creationUrls": {}, "managementUrls": {}, "baseUrl": "http://x",
                          "rpcBaseUrl": "http://x/"})
    request = http_datum("POST", "http://localhost/api/start/a", {}, {}, {"name": "a"}, b"", "")

    outputs = call(starter, {"req": request, **client_inputs(starter.spec, payload)})

    assert outputs["$return"].value["body"].value == b"DurableOrchestrationClient"


def test_blueprints_in_other_files_are_registered_functions(tmp_path):
    write_app(tmp_path, '''
        import azure.functions as func
        from activities import bp

        app = func.FunctionApp()
        app.register_functions(bp)
    ''', activities='''
        import azure.durable_functions as df

        bp = df.Blueprint()


        @bp.activity_trigger(input_name="n")
        def square(n: int) -> int:
            return n * n
    ''')

    report = index_app(tmp_path)

    assert list(report.functions) == ["square"]
    assert call(report.functions["square"], {"n": meta.Datum("7", "json")})["n"].value == "49"


def test_the_script_is_named_before_it_is_imported(tmp_path):
    write_app(tmp_path)
    told = []

    load_functions(tmp_path, lambda name, path: told.append((name, path)))

    assert told == [(None, str(tmp_path.resolve() / "function_app.py"))]


def test_the_script_setting_names_another_file(tmp_path, monkeypatch):
    write_app(tmp_path, script="main_app.py")
    monkeypatch.setenv(SCRIPT_SETTING, "main_app.py")

    assert "orchestrator" in load_functions(tmp_path).functions


@pytest.mark.parametrize(("code", "reason"), [
    ("import not_installed_anywhere\n",
     "failed to index: ModuleNotFoundError: No module named 'not_installed_anywhere' (at function_app.py:1). The "
     f"interpreter {sys.executable} has no module 'not_installed_anywhere': install the app's packages with "
     f"`{sys.executable} -m pip install not_installed_anywhere`"),
    ("raise RuntimeError('boom')\n", "failed to index: RuntimeError: boom (at function_app.py:1)"),
    ("x = 1\n", "failed to index: ValueError: Could not find top level function app instances in function_app.py."),
    ("import azure.functions as func\na = func.FunctionApp()\nb = func.FunctionApp()\n",
     "failed to index: ValueError: More than one FunctionApp or other top level function app instances are defined."),
])
def test_a_script_that_cannot_be_indexed_loads_nothing_and_says_why(tmp_path, code, reason):
    write_app(tmp_path, code)
    write_folder_function(tmp_path)

    report = load_functions(tmp_path)

    assert report.functions == {} and report.skipped == [("function_app.py", reason)]


def test_duplicate_function_names_are_the_sdks_error(tmp_path):
    write_app(tmp_path, '''
        import azure.functions as func

        app = func.FunctionApp()


        @app.function_name("same")
        @app.route(route="a")
        def a(req):
            return "a"


        @app.function_name("same")
        @app.route(route="b")
        def b(req):
            return "b"
    ''')

    [(script, reason)] = load_functions(tmp_path).skipped

    assert script == "function_app.py" and "Function same does not have a unique function name" in reason


def test_an_unfireable_trigger_is_listed_and_a_foreign_output_loads(tmp_path):
    write_app(tmp_path, '''
        import azure.functions as func

        app = func.FunctionApp()


        @app.queue_trigger(arg_name="msg", queue_name="work", connection="AzureWebJobsStorage")
        def worker(msg: func.QueueMessage):
            pass


        @app.route(route="notify")
        @app.generic_output_binding(arg_name="sms", type="twilioSms", accountSid="TwilioSid")
        def notify(req: func.HttpRequest, sms: func.Out[str]) -> str:
            sms.set("hi")
            return "sent"
    ''')

    report = load_functions(tmp_path)

    assert report.skipped == [("worker", "devhost cannot fire queueTrigger triggers")]
    assert [b.type for b in report.functions["notify"].spec.dropped_outputs] == ["twilioSms"]


def test_an_empty_start_says_why(tmp_path):
    assert "has neither function_app.py" in nothing_loaded(tmp_path, [])
    write_app(tmp_path, "import azure.functions as func\n\napp = func.FunctionApp()\n")
    assert nothing_loaded(tmp_path, []).startswith("function_app.py declares no function")
    assert nothing_loaded(tmp_path, [("function_app.py", "failed")]) == (
        "every function found is listed as not loaded above")


def test_a_triggers_own_name_property_names_the_orchestrator_activity_or_entity(tmp_path):
    write_app(tmp_path, '''
        import azure.durable_functions as df

        app = df.DFApp()


        @app.orchestration_trigger(context_name="context", orchestration="Planner")
        def plan(context):
            return None


        @app.activity_trigger(input_name="x", activity="Worker")
        def work(x):
            return x


        @app.entity_trigger(context_name="context", entity_name="Tally")
        def tally(context):
            pass


        @app.activity_trigger(input_name="x")
        def plain(x):
            return x
    ''')

    specs = {name: fn.spec for name, fn in index_app(tmp_path).functions.items()}

    assert {name: spec.durable_name for name, spec in specs.items()} == {
        "plan": "Planner", "work": "Worker", "tally": "Tally", "plain": "plain"}


def test_one_function_whose_parameters_do_not_fit_fails_the_whole_apps_indexing(tmp_path):
    # the worker's process_indexed_function checks each function as it indexes: the metadata request fails
    write_app(tmp_path, '''
        import azure.functions as func

        app = func.FunctionApp()


        @app.activity_trigger(input_name="name")
        def good(name: str) -> str:
            return name


        @app.activity_trigger(input_name="name")
        def bad(city: str) -> str:
            return city
    ''')

    report = load_functions(tmp_path)

    assert report.functions == {}
    assert report.skipped == [("function_app.py", "failed to index: FunctionLoadError: cannot load the bad function: "
                                                  "the following parameters are declared in Python but not in "
                                                  "function.json: {'city'}")]

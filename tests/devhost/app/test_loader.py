"""devhost.app.loader: function.json parsing and entry points imported as __app__.<Folder>, as the Python worker does;
broken or unsupported functions are reported and the others load."""
from __future__ import annotations

import json
import sys

import pytest

from devhost.app.discovery import load_functions
from devhost.app.loader import APP_PACKAGE, binding_notes, import_entry_point, read_spec, scan_specs
from devhost.errors import ConfigError
from devhost.model import Binding

pytestmark = pytest.mark.usefixtures("isolated_imports")


@pytest.fixture
def loader_app(fixture_apps):
    return fixture_apps / "loader_app"


@pytest.fixture
def report(loader_app):
    return load_functions(loader_app)


def write_function(root, name, spec, code="def main(x):\n    return x\n", script="__init__.py"):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "function.json").write_text(json.dumps(spec), encoding="utf-8")
    (folder / script).write_text(code, encoding="utf-8")
    return folder


# -- function.json ------------------------------------------------------------------------------
def test_read_spec_takes_script_file_entry_point_and_bindings(loader_app):
    spec = read_spec(loader_app / "Greeter")

    assert spec.name == "Greeter"
    assert spec.directory == str(loader_app / "Greeter")
    assert (spec.script_file, spec.entry_point) == ("handler.py", "run")
    assert [(b.name, b.type, b.direction) for b in spec.bindings] == [("req", "httpTrigger", "in"),
                                                                      ("$return", "http", "out")]
    assert spec.bindings[0].raw["route"] == "greet/{name}"
    assert spec.kind == "http" and spec.trigger == spec.bindings[0]
    assert not spec.disabled and spec.unfireable is None and spec.dropped_outputs == []


def test_read_spec_defaults_to_init_and_main(loader_app):
    spec = read_spec(loader_app / "Activity")

    assert (spec.script_file, spec.entry_point, spec.kind) == ("__init__.py", "main", "activity")


def test_binding_direction_defaults_to_in(tmp_path):
    write_function(tmp_path, "F", {"bindings": [{"name": "x", "type": "activityTrigger"}]})

    assert read_spec(tmp_path / "F").bindings == (Binding("x", "activityTrigger", "in"),)


def test_read_spec_accepts_a_byte_order_mark(tmp_path):
    folder = write_function(tmp_path, "F", {})
    (folder / "function.json").write_text(json.dumps({"bindings": [{"name": "x", "type": "activityTrigger"}]}),
                                          encoding="utf-8-sig")

    assert read_spec(folder).kind == "activity"


@pytest.mark.parametrize(("spec", "message"), [
    ({"scriptFile": "__init__.py"}, "'bindings' must be a list"),
    ({"bindings": {"name": "x"}}, "'bindings' must be a list"),
    ([], "'bindings' must be a list"),
    ({"bindings": [{"type": "activityTrigger"}]}, "needs 'type' and 'name'"),
    ({"bindings": [{"name": "x"}]}, "needs 'type' and 'name'"),
    ({"bindings": ["activityTrigger"]}, "needs 'type' and 'name'"),
])
def test_malformed_function_json_is_a_config_error(tmp_path, spec, message):
    write_function(tmp_path, "F", spec)

    with pytest.raises(ConfigError, match=message):
        read_spec(tmp_path / "F")


def test_function_json_that_is_not_json_is_a_config_error_naming_the_file(loader_app):
    with pytest.raises(ConfigError, match="BadJson.function.json"):
        read_spec(loader_app / "BadJson")


@pytest.mark.parametrize(("trigger", "kind"), [("httpTrigger", "http"), ("orchestrationTrigger", "orchestration"),
                                               ("activityTrigger", "activity"), ("entityTrigger", "entity"),
                                               ("timerTrigger", "timer"), ("queueTrigger", None)])
def test_the_trigger_type_decides_the_kind(tmp_path, trigger, kind):
    write_function(tmp_path, "F", {"bindings": [{"name": "x", "type": trigger, "direction": "in"}]})

    assert read_spec(tmp_path / "F").kind == kind


# -- loading an app -----------------------------------------------------------------------------
def test_runnable_functions_load_and_the_others_are_reported(report):
    assert sorted(report.functions) == ["Activity", "BlobWriter", "Greeter", "Orchestrator", "Starter"]
    assert sorted(name for name, _ in report.skipped) == ["BadJson", "Broken", "Disabled", "NoEntry", "QueueWorker"]


def test_a_trigger_devhost_cannot_fire_is_reported_with_its_type(report):
    assert dict(report.skipped)["QueueWorker"] == "devhost cannot fire queueTrigger triggers"


def test_an_output_devhost_cannot_deliver_loads_with_one_warning_naming_it(report):
    spec = report.functions["BlobWriter"].spec

    assert [b.name for b in spec.dropped_outputs] == ["outblob"]
    assert binding_notes(spec) == ["WARNING: output binding 'outblob' (blob) is accepted and dropped: "
                                   "devhost cannot deliver it"]


def test_an_input_devhost_has_no_data_for_is_fed_none_with_a_warning(tmp_path):
    write_function(tmp_path, "F", {"bindings": [{"name": "x", "type": "activityTrigger"},
                                                {"name": "doc", "type": "cosmosDB", "direction": "in"}]})

    spec = read_spec(tmp_path / "F")

    assert [b.name for b in spec.unfed_inputs] == ["doc"]
    assert binding_notes(spec) == ["WARNING: input binding 'doc' (cosmosDB) gets None: devhost has no data for it"]


def test_a_function_without_trigger_is_reported(tmp_path):
    write_function(tmp_path, "F", {"bindings": [{"name": "x", "type": "blob", "direction": "in"}]})

    assert scan_specs(tmp_path)[1] == [("F", "no trigger binding")]


def test_import_errors_are_reported_with_the_exception(report):
    reason = dict(report.skipped)["Broken"]

    assert reason.startswith("failed to load: ModuleNotFoundError")
    assert "module_that_is_not_installed" in reason


def test_a_missing_entry_point_is_reported(report):
    assert "entry point 'handler' not found" in dict(report.skipped)["NoEntry"]


def test_disabled_functions_are_reported_and_not_imported(report):
    assert dict(report.skipped)["Disabled"] == "disabled"
    assert f"{APP_PACKAGE}.Disabled" not in sys.modules


def test_a_broken_function_json_is_reported(report):
    assert "BadJson" in dict(report.skipped)["BadJson"]


def test_folders_without_function_json_are_not_functions(report):
    names = set(report.functions) | {name for name, _ in report.skipped}

    assert "shared" not in names


def test_the_legacy_orchestration_client_binding_is_supported(report):
    starter = report.functions["Starter"]

    assert [b.type for b in starter.spec.bindings] == ["httpTrigger", "http", "orchestrationClient"]
    assert binding_notes(starter.spec) == []


def test_scan_specs_reads_every_function_json_without_importing_anything(loader_app):
    modules_before = set(sys.modules)

    specs, skipped = scan_specs(loader_app)

    assert [s.name for s in specs] == ["Activity", "BlobWriter", "Broken", "Greeter", "NoEntry", "Orchestrator",
                                       "Starter"]
    assert sorted(name for name, _ in skipped) == ["BadJson", "Disabled", "QueueWorker"]
    assert set(sys.modules) == modules_before


# -- imports as the worker does them ------------------------------------------------------------
def test_functions_are_imported_as_modules_of_the_app_package(report):
    assert report.functions["Activity"].main.__module__ == "__app__.Activity"
    assert report.functions["Greeter"].main.__module__ == "__app__.Greeter.handler"


def test_script_file_and_entry_point_select_the_callable(report):
    greeter = report.functions["Greeter"].main

    assert greeter.__name__ == "run"


def test_relative_imports_between_function_folders_work(report):
    """Greeter/handler.py does `from ..shared.greetings import greet` and `from .punctuation import MARK`."""
    import azure.functions as func

    request = func.HttpRequest("GET", "http://localhost/api/greet/Ada", body=b"", route_params={"name": "Ada"})

    assert report.functions["Greeter"].main(request).get_body() == b"Hello Ada!!!"
    assert sys.modules["__app__.Greeter"].__path__  # a package, so relative imports resolve


def test_the_script_root_is_on_sys_path_for_absolute_imports(report, loader_app):
    """Activity/__init__.py does `from shared.greetings import greet`."""
    assert str(loader_app.resolve()) in sys.path
    assert report.functions["Activity"].main("Lima") == "Hello Lima!"


def test_the_orchestrator_is_the_sdk_handle(report):
    main = report.functions["Orchestrator"].main

    assert main.orchestrator_function.__name__ == "orchestrator_function"


def test_a_script_file_outside_the_script_root_is_refused(tmp_path):
    root = tmp_path / "app"
    write_function(root, "F", {"scriptFile": "../../evil.py", "bindings": [{"name": "x", "type": "activityTrigger"}]})
    (tmp_path / "evil.py").write_text("def main(x):\n    return x\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="outside the script root"):
        import_entry_point(root.resolve(), read_spec(root / "F"))


def test_a_missing_script_file_is_refused(tmp_path):
    write_function(tmp_path, "F", {"scriptFile": "nope.py", "bindings": [{"name": "x", "type": "activityTrigger"}]})

    report = load_functions(tmp_path)

    assert report.functions == {}
    assert "scriptFile nope.py not found" in dict(report.skipped)["F"]


def test_an_exception_raised_at_import_is_reported_and_the_others_load(tmp_path):
    spec = {"bindings": [{"name": "x", "type": "activityTrigger"}]}
    write_function(tmp_path, "Bad", spec, code="raise RuntimeError('boom at import')\n")
    write_function(tmp_path, "Good", spec)

    report = load_functions(tmp_path)

    assert list(report.functions) == ["Good"]
    assert dict(report.skipped)["Bad"] == "failed to load: RuntimeError: boom at import (at Bad/__init__.py:1)"


def test_a_package_the_requirements_list_but_nobody_installed_names_the_interpreter_and_the_fix(tmp_path):
    (tmp_path / "requirements.txt").write_text("azure-functions\npandas_never_installed_here\n")
    spec = {"bindings": [{"name": "x", "type": "activityTrigger"}]}
    write_function(tmp_path, "Enrich", spec, code="import json\nimport pandas_never_installed_here.frame\n")
    # modules of the app itself that are missing: no package to install
    write_function(tmp_path, "F", spec, code="from . import helpers\n")
    write_function(tmp_path, "G", spec, code="import app_helpers.nothing_here\n")
    (tmp_path / "app_helpers").mkdir()
    (tmp_path / "app_helpers" / "__init__.py").write_text("")  # a regular package: isolated_imports drops it

    skipped = dict(load_functions(tmp_path).skipped)

    assert skipped["Enrich"] == (
        "failed to load: ModuleNotFoundError: No module named 'pandas_never_installed_here' (at Enrich/__init__.py:2). "
        f"The interpreter {sys.executable} has no module 'pandas_never_installed_here': install the app's packages "
        f"with `{sys.executable} -m pip install -r {tmp_path.resolve() / 'requirements.txt'}`")
    assert "pip" not in skipped["F"] and "pip" not in skipped["G"]
    assert skipped["F"].startswith("failed to load: ImportError: cannot import name 'helpers'")


def test_the_repository_app_loads_completely():
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    report = load_functions(root)

    assert report.skipped == []
    assert {name: fn.spec.kind for name, fn in report.functions.items()} == {
        "DurableFunctionsHttpStart": "http", "Hello": "activity", "HelloOrchestrator": "orchestration"}



def test_each_function_file_is_named_before_it_is_imported(loader_app):
    """What a worker tells the host, so that an import that never returns can be named."""
    told = []
    load_functions(loader_app, lambda name, path: told.append((name, path, f"{APP_PACKAGE}.{name}" in sys.modules)))

    specs, _ = scan_specs(loader_app)
    assert [name for name, _, _ in told] == [s.name for s in specs]
    assert not any(imported for *_, imported in told)
    assert ("Greeter", str(loader_app / "Greeter" / "handler.py"), False) in told


def test_a_function_whose_parameters_do_not_fit_its_bindings_alone_fails_to_load(tmp_path):
    # the worker answers that function's FunctionLoadRequest with its FunctionLoadError; the others load
    (tmp_path / "host.json").write_text("{}")
    write_function(tmp_path, "Good", {"bindings": [{"name": "x", "type": "activityTrigger", "direction": "in"}]})
    write_function(tmp_path, "Bad", {"bindings": [{"name": "name", "type": "activityTrigger", "direction": "in"}]},
                   code="def main(city):\n    return city\n")

    report = load_functions(tmp_path)

    assert list(report.functions) == ["Good"]
    assert report.skipped == [("Bad", "failed to load: FunctionLoadError: cannot load the Bad function: the following "
                                      "parameters are declared in Python but not in function.json: {'city'}")]

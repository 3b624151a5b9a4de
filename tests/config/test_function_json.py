"""Checks each function.json against its entry point, as the Python worker would when it loads the app."""

import importlib
import inspect
import json
from pathlib import Path

import pytest
from azure.functions import meta

ROOT = Path(__file__).resolve().parents[2]

EXPECTED_BINDINGS = {
    "HelloOrchestrator": [
        {"name": "context", "type": "orchestrationTrigger", "direction": "in"},
    ],
    "Hello": [
        {"name": "name", "type": "activityTrigger", "direction": "in"},
    ],
    "DurableFunctionsHttpStart": [
        {"authLevel": "anonymous", "name": "req", "type": "httpTrigger", "direction": "in",
         "route": "orchestrators/{functionName}", "methods": ["post", "get"]},
        {"name": "$return", "type": "http", "direction": "out"},
        {"name": "starter", "type": "durableClient", "direction": "in"},
    ],
}


def function_json(name):
    return json.loads((ROOT / name / "function.json").read_text(encoding="utf-8"))


def entry_point(name):
    spec = function_json(name)
    module_name = name if spec["scriptFile"] == "__init__.py" else f"{name}.{spec['scriptFile'][:-3]}"
    return getattr(importlib.import_module(module_name), spec.get("entryPoint", "main"))


def test_the_app_has_exactly_the_three_functions():
    found = {path.parent.name for path in ROOT.glob("*/function.json")}
    assert found == set(EXPECTED_BINDINGS)


@pytest.mark.parametrize("name", sorted(EXPECTED_BINDINGS))
def test_function_json_has_exactly_the_described_bindings(name):
    spec = function_json(name)

    assert spec == {"scriptFile": "__init__.py", "bindings": EXPECTED_BINDINGS[name]}
    assert (ROOT / name / spec["scriptFile"]).is_file()


@pytest.mark.parametrize("name", sorted(EXPECTED_BINDINGS))
def test_binding_names_are_the_entry_point_parameters(name):
    bindings = function_json(name)["bindings"]
    parameters = inspect.signature(entry_point(name)).parameters

    # The worker matches bindings to parameters by name; `$return` is the return value.
    assert set(parameters) == {b["name"] for b in bindings} - {"$return"}


@pytest.mark.parametrize("name", sorted(EXPECTED_BINDINGS))
def test_annotations_are_accepted_by_the_binding_converters(name):
    """The worker refuses to load a function whose annotations its converters reject."""
    registry = meta.get_binding_registry()
    signature = inspect.signature(entry_point(name), eval_str=True)

    for binding in function_json(name)["bindings"]:
        converter = registry.get(binding["type"])
        assert converter is not None, binding["type"]
        if binding["name"] == "$return":
            annotation = signature.return_annotation
            assert converter.check_output_type_annotation(annotation)
        else:
            annotation = signature.parameters[binding["name"]].annotation
            if annotation is not inspect.Parameter.empty:
                assert converter.check_input_type_annotation(annotation)


def test_exactly_one_trigger_per_function():
    for name in EXPECTED_BINDINGS:
        triggers = [b["type"] for b in function_json(name)["bindings"]
                    if b["type"].endswith("Trigger")]
        assert len(triggers) == 1, (name, triggers)

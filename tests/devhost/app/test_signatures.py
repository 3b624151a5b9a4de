"""devhost.app.signatures: the Python worker's load-time check of a function's parameters against its bindings
(azure_functions_worker/functions.py, Registry.validate_function_params and its neighbours), with its words."""
from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func
import pytest

from devhost.app.loader import read_bindings
from devhost.app.signatures import FunctionLoadError, check_signature

ACTIVITY = [{"name": "name", "type": "activityTrigger", "direction": "in"}]
HTTP = [{"name": "req", "type": "httpTrigger", "direction": "in"}, {"name": "$return", "type": "http", "direction": "out"}]


def check(main, bindings):
    check_signature("F", main, read_bindings(bindings, "test"))


def refusal(main, bindings) -> str:
    with pytest.raises(FunctionLoadError) as caught:
        check(main, bindings)
    return str(caught.value)


def test_matching_functions_load():
    def activity(name: str, context: func.Context) -> dict:
        return {}

    def starter(req: func.HttpRequest, client: str, out: func.Out[str]) -> func.HttpResponse:
        return func.HttpResponse()

    check(activity, ACTIVITY)
    check(starter, HTTP + [{"name": "client", "type": "durableClient", "direction": "in"},
                           {"name": "out", "type": "queue", "direction": "out"}])
    check(df.Orchestrator.create(lambda context: None), [{"name": "context", "type": "orchestrationTrigger"}])


def test_a_parameter_without_a_binding_is_refused():
    def main(name, extra):
        pass

    assert refusal(main, ACTIVITY) == ("cannot load the F function: the following parameters are declared in Python "
                                       "but not in function.json: {'extra'}")


def test_a_binding_without_a_parameter_is_refused():
    def main(req):
        pass

    assert refusal(main, HTTP + [{"name": "client", "type": "durableClient", "direction": "in"}]) == (
        "cannot load the F function: the following parameters are declared in function.json but not in Python: "
        "{'client'}")


def test_an_out_binding_needs_an_out_annotation_and_an_in_binding_refuses_one():
    def plain(req: func.HttpRequest, out: str):
        pass

    def out_in(req: func.HttpRequest, other: func.Out[str]):
        pass

    bindings = HTTP + [{"name": "out", "type": "queue", "direction": "out"}]
    assert refusal(plain, bindings) == ('cannot load the F function: binding out is declared to have the "out" '
                                        "direction, but its annotation in Python is not a subclass of "
                                        "azure.functions.Out")
    assert refusal(out_in, HTTP + [{"name": "other", "type": "blob", "direction": "in"}]) == (
        'cannot load the F function: binding other is declared to have the "in" direction in function.json, but '
        "its annotation is azure.functions.Out in Python")


def test_an_annotation_the_bindings_converter_refuses_is_refused():
    def main(req: int):
        pass

    assert refusal(main, HTTP) == ('cannot load the F function: type of req binding in function.json "httpTrigger" '
                                   'does not match its Python annotation "int"')


def test_a_context_parameter_of_another_type_is_refused():
    def main(name, context: dict):
        pass

    assert refusal(main, ACTIVITY) == ('cannot load the F function: the "context" parameter is expected to be of '
                                       "type azure.functions.Context, got <class 'dict'>")


def test_a_return_annotation_the_output_refuses_is_refused():
    def main(req: func.HttpRequest) -> int:
        pass

    assert refusal(main, HTTP) == ('cannot load the F function: Python return annotation "int" does not match '
                                   'binding type "http"')

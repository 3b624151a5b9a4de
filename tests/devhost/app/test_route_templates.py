"""devhost.app.route_templates: httpTrigger route templates ("orchestrators/{functionName}", "{id:int?}", "{*rest}") matched as
ASP.NET matches them: whole path, case-insensitive, optional parameters, constraints, defaults and catch-all."""
from __future__ import annotations

import pytest

from devhost.app.route_templates import compile_route


def match(template: str, path: str):
    return compile_route(template).match(path)


def test_the_quickstart_route_captures_the_function_name():
    assert match("orchestrators/{functionName}", "orchestrators/HelloOrchestrator") == {
        "functionName": "HelloOrchestrator"}


@pytest.mark.parametrize("path", ["orchestrators", "orchestrators/a/b", "other/Hello", "xorchestrators/Hello", ""])
def test_the_whole_path_must_match(path):
    assert match("orchestrators/{functionName}", path) is None


def test_literal_segments_are_case_insensitive_and_values_keep_their_case():
    assert match("Orchestrators/{functionName}", "ORCHESTRATORS/HelloOrchestrator") == {
        "functionName": "HelloOrchestrator"}


def test_leading_and_trailing_slashes_are_ignored():
    assert match("/orchestrators/{name}/", "/orchestrators/Hello/") == {"name": "Hello"}


def test_a_parameter_does_not_span_segments():
    assert match("a/{x}/c", "a/b/b/c") is None


def test_a_template_without_parameters_matches_only_itself():
    route = compile_route("health")

    assert route.match("health") == {} and route.match("Health") == {}
    assert route.match("health/x") is None


def test_literal_text_is_not_a_regex():
    assert match("v1.0/{x}", "v1.0/a") == {"x": "a"}
    assert match("v1.0/{x}", "v100/a") is None


@pytest.mark.parametrize(("path", "params"), [("orchestrators/H", {"functionName": "H"}),
                                              ("orchestrators/H/i-1", {"functionName": "H", "instanceId": "i-1"})])
def test_an_optional_last_segment_may_be_absent(path, params):
    assert match("orchestrators/{functionName}/{instanceId?}", path) == params


def test_an_optional_parameter_with_a_constraint():
    route = compile_route("items/{id:int?}")

    assert route.match("items") == {}
    assert route.match("items/42") == {"id": "42"}
    assert route.match("items/abc") is None


def test_a_default_value_fills_an_absent_parameter():
    route = compile_route("products/{category:alpha}/{id:int=7}")

    assert route.match("products/shoes") == {"category": "shoes", "id": "7"}
    assert route.match("products/shoes/9") == {"category": "shoes", "id": "9"}


@pytest.mark.parametrize(("constraint", "good", "bad"), [
    ("int", ["0", "42", "-3"], ["4.2", "x", "1x"]),
    ("long", ["9000000000"], ["x"]),
    ("alpha", ["abc", "ABC"], ["ab1", "a-b"]),
    ("bool", ["true", "False", "TRUE"], ["yes", "1"]),
    ("double", ["1.5", "-2", "3"], ["1.", "x"]),
    ("guid", ["0123456789abcdef0123456789ABCDEF", "01234567-89ab-cdef-0123-456789abcdef"], ["xyz", "1234"]),
])
def test_type_constraints(constraint, good, bad):
    route = compile_route(f"v/{{value:{constraint}}}")

    for value in good:
        assert route.match(f"v/{value}") == {"value": value}, value
    for value in bad:
        assert route.match(f"v/{value}") is None, value


def test_constraint_names_are_case_insensitive():
    assert match("v/{n:INT}", "v/5") == {"n": "5"}
    assert match("v/{n:INT}", "v/x") is None


def test_chained_constraints_use_the_type_of_the_first():
    assert match("v/{n:int:min(1)}", "v/12") == {"n": "12"}
    assert match("v/{n:int:min(1)}", "v/x") is None


def test_unknown_constraints_accept_any_segment():
    assert match("v/{n:length(3)}", "v/abc") == {"n": "abc"}


def test_a_catch_all_takes_the_rest_of_the_path():
    route = compile_route("files/{*path}")

    assert route.match("files/a/b/c.txt") == {"path": "a/b/c.txt"}
    assert route.match("files/readme") == {"path": "readme"}
    assert route.match("files") == {}


def test_a_catch_all_alone_matches_everything():
    assert match("{*rest}", "any/thing/at/all") == {"rest": "any/thing/at/all"}


def test_several_parameters_in_one_segment():
    route = compile_route("download/{name}.{ext}")

    assert route.match("download/report.pdf") == {"name": "report", "ext": "pdf"}
    assert route.match("download/report") is None


def test_the_template_is_kept():
    assert compile_route("orchestrators/{functionName}").template == "orchestrators/{functionName}"

"""devhost.app.route_templates: httpTrigger route templates ("orchestrators/{functionName}", "{id:int?}", "{*rest}") matched as
ASP.NET matches them: whole path, case-insensitive, optional parameters, constraints, defaults and catch-all."""
from __future__ import annotations

import re

import pytest

from devhost.app.route_templates import RouteTemplateError, compile_route


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
    ("double", ["1.5", "-2", "3", "1.", "1e3", "1,000.5", "Infinity", "-nan", "1e999"], ["x", "1e", "1.2.3", "0x1"]),
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


# Constraints as ASP.NET Core's router checks them (RouteOptions' default constraint map; dotnet/aspnetcore
# src/Http/Routing/src/Constraints): a value failing any constraint is no match (the host answers 404).

@pytest.mark.parametrize(("constraint", "good", "bad"), [
    ("int", [" 7", "+7", "2147483647", "-2147483648"], ["2147483648", "1 2", "٣"]),
    ("long", ["-9223372036854775808"], ["9223372036854775808", "1.0"]),
    ("bool", [" true "], ["truex", "t"]),
    ("decimal", ["1.5", "-2", "2-", "1,000", ".5", "79228162514264337593543950335"],
     ["1e3", "-2-", "79228162514264337593543950336", "NaN", ","]),
    ("float", ["1.5e-3", "+.5"], ["1.5f", "e3"]),
    ("guid", ["{01234567-89ab-cdef-0123-456789abcdef}", "(01234567-89ab-cdef-0123-456789abcdef)",
              "{0x01234567,0x89ab,0xcdef,{0x01,0x23,0x45,0x67,0x89,0xab,0xcd,0xef}}"],
     ["01234567-89ab-cdef-0123-456789abcdeg", "{01234567-89ab-cdef-0123-456789abcdef"]),
    ("datetime", ["2024-01-15", "2024-01-15T10:20:30", "2024-01-15T10:20:30.1234567Z", "2024-01-15 10:20",
                  "2024-01-15T10:20:30+02:00", "2024-02", "10:20", "10:20 PM"],
     ["2024-13-01", "2024-02-30", "x", "2024-01-15T25:00", "13:00 PM", "15"]),
    ("alpha", ["aBc"], ["é", "a b"]),
    ("min(10)", ["10", "99999999999"], ["9", "-10", "x", "10.0"]),
    ("max(10)", ["10", "-5"], ["11", "x"]),
    ("range(1, 5)", ["1", "5", "+3"], ["0", "6", "three"]),
    ("length(3)", ["abc", "1.5"], ["ab", "abcd"]),
    ("length(2,4)", ["ab", "abcd"], ["a", "abcde"]),
    ("minlength(2)", ["ab", "abcdef"], ["a"]),
    ("maxlength(2)", ["ab", "a"], ["abc"]),
    ("regex(^\\d{{3}}-\\d{{4}}$)", ["555-1234"], ["5555-1234", "555-12345", "abc-defg"]),
    ("regex(b)", ["abc", "B"], ["xyz"]),
    ("regex(^(a|b),c$)", ["a,c", "B,C"], ["c,c"]),
    ("regex(^(?<word>[a-z]+)$)", ["Word"], ["w1"]),
    ("required", ["x"], []),
    ("file", ["a.txt", ".gitignore", "a.b.c"], ["abc", "a.", "a.."]),
    ("nonfile", ["abc", "a."], ["a.txt"]),
])
def test_constraints_as_the_router_checks_them(constraint, good, bad):
    route = compile_route(f"v/{{value:{constraint}}}")

    for value in good:
        assert route.match(f"v/{value}") == {"value": value}, value
    for value in bad:
        assert route.match(f"v/{value}") is None, value


def test_lengths_count_utf16_code_units_as_dotnet_strings_do():
    assert match("v/{s:maxlength(1)}", "v/é") == {"s": "é"}
    assert match("v/{s:maxlength(1)}", "v/😀") is None
    assert match("v/{s:length(2)}", "v/😀") == {"s": "😀"}


def test_every_chained_constraint_must_hold():
    route = compile_route("v/{n:int:min(1):max(10)}")

    assert route.match("v/5") == {"n": "5"}
    assert route.match("v/0") is None and route.match("v/11") is None and route.match("v/x") is None


def test_an_absent_optional_parameter_skips_its_constraints():
    route = compile_route("items/{id:min(5)?}")

    assert route.match("items") == {}
    assert route.match("items/7") == {"id": "7"}
    assert route.match("items/3") is None


def test_a_default_value_is_checked_against_the_constraints():
    assert match("items/{id:min(5)=3}", "items") is None
    assert match("items/{id:min(5)=6}", "items") == {"id": "6"}
    assert match("items/{id:min(5)=6}", "items/4") is None


def test_a_catch_all_is_constrained_as_a_whole():
    route = compile_route("files/{*path:file}")

    assert route.match("files/a/b/c.txt") == {"path": "a/b/c.txt"}
    assert route.match("files/a.d/c") is None
    assert route.match("files") is None  # absent and not optional: the constraint has no value to accept


def test_constraints_in_a_segment_with_several_parameters():
    route = compile_route("v/{a:int}-{b:alpha}")

    assert route.match("v/12-ab") == {"a": "12", "b": "ab"}
    assert route.match("v/12-a1") is None


def test_constraint_names_ignore_case_with_arguments():
    assert match("v/{n:MIN(3)}", "v/4") == {"n": "4"}
    assert match("v/{n:Length(1)}", "v/ab") is None


def test_a_regex_may_hold_colons_and_equals_signs():
    route = compile_route("v/{code:regex(^a:b=c$)}")

    assert route.match("v/a:b=c") == {"code": "a:b=c"}
    assert route.match("v/a:b=d") is None


def test_a_regex_is_cut_where_a_parenthesis_meets_a_colon_as_the_router_cuts_it():
    # RouteParameterParser ends an argument list at a ')' followed by ':': "regex(^(x|y)" is then the constraint
    with pytest.raises(RouteTemplateError, match="RegexInlineRouteConstraint"):
        compile_route("v/{code:regex(^(x|y):1$)}")


def test_a_constraint_and_a_default_value_after_arguments():
    assert match("v/{n:range(1,9)=4}", "v") == {"n": "4"}


@pytest.mark.parametrize(("template", "words"), [
    ("v/{n:nosuch}", "The constraint entry 'n' - 'nosuch' on the route 'v/{n:nosuch}' could not be resolved by the "
                     "constraint resolver of type 'DefaultInlineConstraintResolver'."),
    ("v/{n:min}", "An error occurred while trying to create an instance of "
                  "'Microsoft.AspNetCore.Routing.Constraints.MinRouteConstraint'."),
    ("v/{n:min(1,2)}", "'Microsoft.AspNetCore.Routing.Constraints.MinRouteConstraint'"),  # one parameter: "1,2"
    ("v/{n:int(3)}", "Could not find a constructor for constraint type 'IntRouteConstraint' with the following "
                     "number of parameters: 1."),
    ("v/{n:range(1)}", "Could not find a constructor for constraint type 'RangeRouteConstraint' with the following "
                       "number of parameters: 1."),
    ("v/{n:range}", "'RangeRouteConstraint' with the following number of parameters: 0."),
    ("v/{n:length(1,2,3)}", "'LengthRouteConstraint' with the following number of parameters: 3."),
    ("v/{n:min(x)}", "'Microsoft.AspNetCore.Routing.Constraints.MinRouteConstraint'"),
    ("v/{n:range(5,1)}", "'Microsoft.AspNetCore.Routing.Constraints.RangeRouteConstraint'"),
    ("v/{n:length(3,1)}", "'Microsoft.AspNetCore.Routing.Constraints.LengthRouteConstraint'"),
    ("v/{n:maxlength(-1)}", "'Microsoft.AspNetCore.Routing.Constraints.MaxLengthRouteConstraint'"),
    ("v/{n:regex(()}", "'Microsoft.AspNetCore.Routing.Constraints.RegexInlineRouteConstraint'"),
    ("v/{n", "incomplete parameter"),
])
def test_a_route_the_router_cannot_build_is_refused(template, words):
    with pytest.raises(RouteTemplateError, match=re.escape(words)):
        compile_route(template)


def test_the_refusal_names_the_route_as_the_host_built_it():
    with pytest.raises(RouteTemplateError, match=re.escape("on the route 'api/v/{n:nosuch}'")):
        compile_route("v/{n:nosuch}", display="api/v/{n:nosuch}")

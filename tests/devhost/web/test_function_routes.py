"""devhost.web.function_routes: the app's httpTrigger functions under the route prefix, called with requests through
the real aiohttp app, their bindings filled by azure.functions' converters."""
from __future__ import annotations

from api_server import (
    CLIENT_PAYLOAD,
    assert_empty,
)

from devhost.model import RuntimeStatus


# -- the app's HTTP functions -----------------------------------------------------------------------
def test_an_http_function_gets_route_params_query_headers_and_body(api):
    response = api.request("POST", "/api/Echo/ada/42?x=1", data="hi", headers={"X-Test": "yes"})

    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"method": "POST", "route": {"name": "ada", "id": "42"}, "query": {"x": "1"},
                               "body": "hi", "header": "yes"}


def test_an_optional_route_parameter_may_be_absent(api):
    assert api.request("GET", "/api/echo/ada").json()["route"] == {"name": "ada"}


def test_a_method_the_function_does_not_take_is_404(api):
    assert_empty(api.request("DELETE", "/api/echo/ada"), 404)


def test_a_named_http_output_becomes_the_response(api):
    response = api.request("GET", "/api/teapot")

    assert response.status_code == 418 and response.text == "short and stout"
    assert response.headers["X-Brew"] == "earl grey"
    assert response.cookies["sugar"] == "2"


def test_a_function_that_raises_is_500_and_the_host_keeps_serving(api):
    assert api.request("GET", "/api/boom").status_code == 500
    assert api.request("GET", "/api/echo/still").status_code == 200


def test_a_durable_client_binding_gets_the_payload(api):
    assert api.request("GET", "/api/client").text == CLIENT_PAYLOAD


def test_purge_by_filter_of_running_instances_only_deletes_them_as_the_storage_provider_does(api, base):
    # PurgeInstanceHistoryAsync keeps only the filter's finished statuses; with none left it filters on none
    api.start("r")
    api.set_status("r", RuntimeStatus.Running)

    response = api.request("DELETE", f"{base}/instances/?createdTimeFrom=2024-05-01T00:00:00Z&runtimeStatus=Running")

    assert response.status_code == 200 and response.json() == {"instancesDeleted": 1}
    assert api.instance("r") is None



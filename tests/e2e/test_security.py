"""A local host no web page can drive (docs/security.md), end to end over real HTTP against devhost processes: the
Host header allowlist (DNS rebinding), cross-site requests to the management API, and CORS only when asked for."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from devhost.testing import WEBHOOK, Client, app_host

ROOT = Path(__file__).resolve().parents[2]
WAITER = ROOT / "tests" / "apps" / "waiter"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


host = app_host(WAITER, time_travel=False)


def waiting(host: Client) -> str:
    """A Waiter instance that stays Running until it gets "go"."""
    instance_id = f"sec-{uuid.uuid4().hex[:12]}"
    response = requests.post(host.url(f"{WEBHOOK}/orchestrators/Waiter/{instance_id}"), timeout=10)
    assert response.status_code == 202, response.text
    host.wait(instance_id, statuses=("Running",))
    return instance_id


def count(host: Client) -> int:
    return len(requests.get(host.url(f"{WEBHOOK}/instances"), timeout=10).json())


# -- 1. Host header allowlist ----------------------------------------------------------------------------------
def test_a_foreign_host_is_refused_with_the_flag_named_and_nothing_is_started(host):
    before = count(host)
    for method, path in (("POST", "/api/orchestrators/Waiter"), ("GET", f"{WEBHOOK}/instances"),
                         ("POST", f"{WEBHOOK}/orchestrators/Waiter"), ("GET", "/admin/host/status")):
        response = requests.request(method, host.url(path), headers={"Host": f"evil.example:{host.port}"},
                                    timeout=10)
        assert response.status_code == 403, (method, path, response.text)
        assert "--allow-host evil.example" in response.text
    assert count(host) == before


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "[::1]", "LocalHost", "127.0.0.7"])
def test_local_hosts_are_served_with_any_port(host, name):
    for port in (host.port, 80, None):
        header = name if port is None else f"{name}:{port}"
        response = requests.get(host.url(f"{WEBHOOK}/instances"), headers={"Host": header}, timeout=10)
        assert response.status_code == 200, (header, response.text)


def test_allow_host_adds_names_and_only_those(devhost_factory):
    with devhost_factory(WAITER, extra_args=("--allow-host", "myvm.local", "--allow-host", "Team.Example")) as host:
        for name in ("myvm.local", "team.example", "localhost"):
            response = requests.get(host.url(f"{WEBHOOK}/instances"), headers={"Host": f"{name}:{host.port}"},
                                    timeout=10)
            assert response.status_code == 200, name
        refused = requests.get(host.url(f"{WEBHOOK}/instances"), headers={"Host": "other.local"}, timeout=10)
        assert refused.status_code == 403 and "--allow-host other.local" in refused.text


# -- 2. Cross-site requests --------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},  # a sandboxed frame or a file:// page
    {"Referer": "http://evil.example/page.html"},  # no Origin, but the page it comes from
    {"Origin": "http://localhost:3000"},  # another local dev server is another site too
    {"Sec-Fetch-Site": "cross-site"},
], ids=["origin", "null-origin", "referer", "other-port", "fetch-metadata"])
def test_a_cross_site_form_post_cannot_terminate(host, headers):
    instance_id = waiting(host)
    response = requests.post(host.url(f"{WEBHOOK}/instances/{instance_id}/terminate?reason=gotcha"),
                             data="x=1", headers={**FORM, **headers}, timeout=10)
    assert response.status_code == 403, response.text
    assert "--cors" in response.text
    assert host.status(instance_id)["runtimeStatus"] == "Running"
    purge = requests.delete(host.url(f"{WEBHOOK}/instances/{instance_id}"), headers=headers, timeout=10)
    assert purge.status_code == 403
    assert host.status_response(instance_id).status_code == 202


def test_same_origin_curl_and_the_sdk_client_may_change_instances(host):
    same_origin = waiting(host)
    own = f"http://127.0.0.1:{host.port}"
    response = requests.post(host.url(f"{WEBHOOK}/instances/{same_origin}/terminate"),
                             headers={**FORM, "Origin": own, "Referer": own + "/devhost/"}, timeout=10)
    assert response.status_code == 202, response.text
    assert host.wait(same_origin)["runtimeStatus"] == "Terminated"

    curl_like = waiting(host)
    assert requests.post(host.url(f"{WEBHOOK}/instances/{curl_like}/terminate"), timeout=10).status_code == 202
    assert host.wait(curl_like)["runtimeStatus"] == "Terminated"

    by_sdk = waiting(host)
    host.sdk(lambda client: client.terminate(by_sdk, "by the SDK"))
    assert host.wait(by_sdk)["runtimeStatus"] == "Terminated"


def test_cross_site_reads_get_no_cors_headers_and_app_functions_keep_func_start_behaviour(host):
    listing = requests.get(host.url(f"{WEBHOOK}/instances"), headers={"Origin": "http://evil.example"}, timeout=10)
    assert listing.status_code == 200  # served, but no CORS header: the browser keeps it from the page
    assert not any(k.lower().startswith("access-control-") for k in listing.headers)
    # The app's own /api/ functions answer cross-site requests as `func start` does.
    started = requests.post(host.url("/api/orchestrators/Quick"), headers={**FORM, "Origin": "http://evil.example"},
                            timeout=10)
    assert started.status_code == 202, started.text
    assert "Access-Control-Allow-Origin" not in started.headers
    host.wait(started.json()["id"])


def test_cors_names_origins_that_get_headers_and_may_make_changes(devhost_factory):
    trusted = "https://tools.example"
    with devhost_factory(WAITER, extra_args=("--cors", f"{trusted},https://other.example")) as host:
        preflight = requests.options(host.url(f"{WEBHOOK}/orchestrators/Waiter"), timeout=10, headers={
            "Origin": trusted, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == trusted
        assert preflight.headers["Access-Control-Allow-Methods"] == "POST"
        assert preflight.headers["Access-Control-Allow-Headers"] == "content-type"
        started = requests.post(host.url(f"{WEBHOOK}/orchestrators/Waiter"), json=None,
                                headers={"Origin": trusted}, timeout=10)
        assert started.status_code == 202, started.text
        assert started.headers["Access-Control-Allow-Origin"] == trusted
        assert "Access-Control-Allow-Credentials" not in started.headers
        instance_id = started.json()["id"]
        host.wait(instance_id, statuses=("Running",))
        refused = requests.post(host.url(f"{WEBHOOK}/instances/{instance_id}/terminate"),
                                headers={"Origin": "https://evil.example"}, timeout=10)
        assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
        assert requests.options(host.url(f"{WEBHOOK}/instances"), timeout=10, headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE"}).status_code == 404


def test_devhost_admin_and_dashboard_are_management_too(devhost_factory):
    with devhost_factory(WAITER, time_travel=True) as host:
        forged = requests.post(host.url("/admin/devhost/advance"), params={"seconds": 3600}, timeout=10,
                               headers={**FORM, "Origin": "http://evil.example"})
        assert forged.status_code == 403
        assert requests.post(host.url("/admin/devhost/advance"), params={"seconds": 1}, timeout=10).json()[
            "offsetSeconds"] == 1
        assert requests.get(host.url("/devhost/"), headers={"Host": "evil.example"}, timeout=10).status_code == 403

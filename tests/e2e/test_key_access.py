"""devhost exposed on purpose (docs/security.md §3), end to end with real processes and real HTTP: the warning, keys
required on the management API and by authLevel, keys generated once, and the URLs handed out carrying code= as the
real host's do, followed by the SDK's client and by plain HTTP. Loopback traffic, and this machine's own address
when it has one besides loopback: a host bound to 0.0.0.0 is reached through 127.0.0.1, one bound to that address
through it."""
from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from devhost.testing import WEBHOOK, Client, app_host, poll

ROOT = Path(__file__).resolve().parents[2]
WAITER = ROOT / "tests" / "apps" / "waiter"
AUTH_LEVELS = ROOT / "tests" / "apps" / "auth_levels"
GREETINGS = ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


def machine_address() -> str | None:
    """This machine's IPv4 address on its default route (what `hostname -I` shows first), None when it has none
    but loopback. Connecting a UDP socket only picks the source address: nothing is sent."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.254.254.254", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


keyed = app_host(WAITER, time_travel=False, require_key=True)  # the waiter app on loopback, --require-key forced on


def get(host: Client, path: str, **kwargs) -> requests.Response:
    """A request with no key of its own (requests, not the harness's session)."""
    return requests.get(host.url(path), timeout=10, **kwargs)


def test_exposed_host_warns_requires_keys_and_prints_generated_keys_once(devhost_factory):
    host = devhost_factory(WAITER, extra_args=("--host", "0.0.0.0")).start()
    log = poll(lambda: "WARNING: devhost listens on 0.0.0.0" in host.log() and host.log(), what="the warning")
    assert "require keys" in log
    keys = host.keys
    assert keys is not None and keys.generated is False  # read back by the harness from what the host wrote
    assert keys.system_key in log and keys.master in log  # printed at generation
    assert f"/devhost/?code={keys.system_key}" in log  # the dashboard's link carries it
    secrets = json.loads((host.secrets_folder / "host.json").read_text())
    assert secrets["systemKeys"][0] == {"name": "durabletask_extension", "value": keys.system_key,
                                        "encrypted": False}
    assert (host.secrets_folder / "host.json").stat().st_mode & 0o077 == 0

    assert get(host, f"{WEBHOOK}/instances").status_code == 401
    assert get(host, f"{WEBHOOK}/instances", params={"code": "wrong"}).status_code == 401
    assert get(host, f"{WEBHOOK}/instances", params={"code": keys.system_key}).status_code == 200
    assert get(host, f"{WEBHOOK}/instances", headers={"x-functions-key": keys.master}).status_code == 200
    assert get(host, f"{WEBHOOK}/instances", params={"code": keys.function_keys[0]}).status_code == 401

    first = len(host.log())
    host.restart()
    poll(lambda: "devhost ready" in host.log()[first:], what="the restart")
    again = host.log()[first:]
    assert keys.system_key not in again and "Keys required" in again  # shown only once
    assert "/devhost/?code=<durabletask_extension key>" in again
    assert host.keys.system_key == keys.system_key


def test_loopback_needs_no_key_and_prints_no_warning(devhost_factory):
    host = devhost_factory(WAITER).start()
    assert get(host, f"{WEBHOOK}/instances").status_code == 200
    assert "WARNING: devhost listens" not in host.log() and host.keys is None
    response = requests.post(host.url("/api/orchestrators/Quick"), timeout=10)
    assert "code=" not in response.text


def test_urls_handed_out_carry_code_and_the_sdk_client_follows_them(keyed):
    key = keyed.keys.system_key
    # The app's anonymous HTTP starter: the SDK's client starts through the RPC API, then
    # create_check_status_response copies the binding's managementUrls.
    started = requests.post(keyed.url("/api/orchestrators/Waiter"), json={"n": 1}, timeout=10)
    assert started.status_code == 202, started.text
    urls = started.json()
    for name, url in urls.items():
        if name != "id":
            assert parse_qs(urlsplit(url).query)["code"] == [key], name
            assert url.endswith(f"&code={key}")
    assert started.headers["Location"] == urls["statusQueryGetUri"]
    assert requests.get(urls["statusQueryGetUri"], timeout=10).status_code == 202
    bare = urls["statusQueryGetUri"].replace(f"&code={key}", "")
    assert requests.get(bare, timeout=10).status_code == 401
    raised = requests.post(urls["sendEventPostUri"].replace("{eventName}", "go"), json="now", timeout=10)
    assert raised.status_code == 202
    done = poll(lambda: (r := requests.get(urls["statusQueryGetUri"], timeout=10)).status_code == 200 and r.json(),
                what="the instance to complete")
    assert done["output"] == {"input": {"n": 1}, "event": "now"}

    # The management API's own start answer carries the key the same way.
    by_webhook = requests.post(keyed.url(f"{WEBHOOK}/orchestrators/Quick"), params={"code": key}, timeout=10)
    assert by_webhook.status_code == 202 and by_webhook.json()["statusQueryGetUri"].endswith(f"&code={key}")
    # The SDK's client in the test process, with the binding payload carrying the key.
    status = keyed.sdk(lambda client: client.get_status(by_webhook.json()["id"]))
    assert status.name == "Quick"


def test_cross_site_still_refused_with_a_key(keyed):
    response = requests.post(keyed.url(f"{WEBHOOK}/orchestrators/Quick"), timeout=10,
                             params={"code": keyed.keys.system_key}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403


def test_admin_api_takes_only_the_master_key_and_rpc_needs_none_from_this_machine(keyed):
    assert get(keyed, "/admin/host/status", params={"code": keyed.keys.system_key}).status_code == 401
    assert get(keyed, "/admin/host/status", params={"code": keyed.keys.master}).status_code == 200
    # The RPC path is the extension's loopback-only RPC port: the worker's SDK calls it without a key.
    assert get(keyed, "/durabletask/instances/").status_code == 200
    assert get(keyed, "/").status_code == 200


def test_auth_levels_as_in_azure(devhost_factory, tmp_path):
    host = devhost_factory(AUTH_LEVELS, require_key=True)
    host.secrets_folder.mkdir(parents=True, exist_ok=True)
    (host.secrets_folder / "functionlevel.json").write_text(json.dumps(
        {"keys": [{"name": "default", "value": "own-key-of-FunctionLevel", "encrypted": False}]}))
    host.start()
    keys = host.keys
    expected = {  # (function, key) -> status
        ("AnonymousLevel", None): 200,
        ("FunctionLevel", None): 401, ("FunctionLevel", "wrong"): 401,
        ("FunctionLevel", keys.function_keys[0]): 200, ("FunctionLevel", keys.master): 200,
        ("FunctionLevel", "own-key-of-FunctionLevel"): 200, ("FunctionLevel", keys.system_key): 401,
        ("DefaultLevel", None): 401, ("DefaultLevel", keys.function_keys[0]): 200,
        ("DefaultLevel", "own-key-of-FunctionLevel"): 401,
        ("AdminLevel", keys.function_keys[0]): 401, ("AdminLevel", keys.master): 200,
    }
    for (function, key), status in expected.items():
        by_query = get(host, f"/api/{function}", params={"code": key} if key else None)
        by_header = requests.post(host.url(f"/api/{function}"), headers={"x-functions-key": key} if key else {},
                                  timeout=10)
        assert (by_query.status_code, by_header.status_code) == (status, status), (function, key)
        if status == 200:
            assert by_query.text == "served"


def test_auth_levels_are_not_enforced_without_keys(devhost_factory):
    host = devhost_factory(AUTH_LEVELS).start()
    for function in ("AnonymousLevel", "FunctionLevel", "DefaultLevel", "AdminLevel"):
        assert get(host, f"/api/{function}").status_code == 200, function  # as `func start` runs them locally


def test_the_dashboard_opens_with_the_system_key_in_its_url(keyed):
    code = {"code": keyed.keys.system_key}
    assert get(keyed, "/devhost/").status_code == 401
    page = get(keyed, "/devhost/", params=code)
    assert page.status_code == 200 and "html" in page.headers["Content-Type"]
    redirected = get(keyed, "/devhost", params=code)  # the redirect to /devhost/ keeps the key
    assert redirected.status_code == 200 and redirected.url.endswith(f"/devhost/?code={keyed.keys.system_key}")


def test_bound_to_one_address_of_this_machine_the_starters_durable_client_still_reaches_the_host(devhost_factory):
    """--host <this machine's address>: the app's starter calls the host through its durableClient binding's
    rpcBaseUrl, which stays on loopback (devhost listens on 127.0.0.1 too), so it needs no key; the status URLs it
    hands out carry the public address and the system key, and a caller follows them to the greetings."""
    address = machine_address()
    if address is None:
        pytest.skip("this machine has no address but loopback to bind --host to")
    host = devhost_factory(ROOT, extra_args=("--host", address))
    host.base_url = f"http://{address}:{host.port}"  # the harness too talks to the public address only
    host.start()

    started = requests.post(host.url("/api/orchestrators/HelloOrchestrator"), timeout=30)  # anonymous starter
    assert started.status_code == 202, f"{started.status_code} {started.text}\n{host.log()[-3000:]}"
    status_url = started.json()["statusQueryGetUri"]
    assert status_url.startswith(f"http://{address}:{host.port}/runtime/webhooks/durabletask/instances/")
    assert f"code={host.keys.system_key}" in status_url

    def done() -> dict | None:
        response = requests.get(status_url, timeout=10)
        return response.json() if response.status_code == 200 else None

    final = poll(done, timeout=30, what="the instance to complete")
    assert (final["runtimeStatus"], final["output"]) == ("Completed", GREETINGS), final
    assert requests.get(status_url.replace(f"&code={host.keys.system_key}", ""), timeout=10).status_code == 401

"""devhost.web.guard: the access policy as pure decisions (Host allowlist, same-origin changes, CORS, keys)."""
from __future__ import annotations

import pytest

from devhost.app.keys import HostKeys
from devhost.testing import WEBHOOK
from devhost.web.guard import Guard, host_name, is_loopback, is_management


def admit(guard: Guard, method: str = "GET", path: str = f"{WEBHOOK}/instances", peer: str = "127.0.0.1",
          query: dict[str, str] | None = None, **headers: str):
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    return guard.admit(method, "http", path, headers, query or {}, peer)


@pytest.mark.parametrize("header,name", [("localhost:7071", "localhost"), ("[::1]:7071", "::1"), ("[::1]", "::1"),
                                         ("LocalHost", "localhost"), ("127.0.0.1", "127.0.0.1"),
                                         ("localhost.:80", "localhost"), ("myvm.local:8080", "myvm.local")])
def test_host_name_drops_port_brackets_and_case(header, name):
    assert host_name(header) == name


def test_loopback_and_management_paths():
    assert is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert is_management(f"{WEBHOOK}/instances") and is_management("/durabletask/instances/")
    assert is_management("/devhost") and is_management("/admin/devhost/advance")
    assert not is_management("/api/orchestrators/x") and not is_management("/devhostile")


def test_names_need_the_list_but_ip_addresses_only_a_wildcard_bind():
    local = Guard(bind="127.0.0.1")
    assert local.host_allowed("localhost:1") and local.host_allowed("127.0.0.9") and local.host_allowed(None)
    assert not local.host_allowed("evil.example") and not local.host_allowed("192.168.1.5:7071")
    assert Guard(bind="192.168.1.5").host_allowed("192.168.1.5:7071")
    everywhere = Guard(bind="0.0.0.0")
    assert everywhere.host_allowed("192.168.1.5:7071") and everywhere.host_allowed("[fe80::1]:7071")
    assert not everywhere.host_allowed("evil.example")
    assert Guard(allow_hosts=frozenset({"*"})).host_allowed("anything.example")


def test_state_changes_need_the_same_origin_reads_do_not():
    guard = Guard()
    assert admit(guard, "POST", Origin="http://localhost", Host="localhost:80") is None
    assert admit(guard, "POST", Origin="http://localhost:7071", Host="localhost:7071") is None
    assert admit(guard, "POST", Origin="https://localhost:7071", Host="localhost:7071").status == 403
    assert admit(guard, "DELETE", Referer="http://127.0.0.1:9/x", Host="127.0.0.1:7071").status == 403
    assert admit(guard, "GET", Origin="http://evil.example", Host="localhost:7071") is None
    assert admit(guard, "POST", Host="localhost:7071") is None
    assert admit(guard, "POST", "/api/start", Origin="http://evil.example", Host="localhost:7071") is None


def test_cors_origins_pass_and_get_headers():
    guard = Guard(cors_origins=frozenset({"https://a.example"}), cors_credentials=True)
    assert admit(guard, "POST", Origin="https://a.example", Host="localhost:7071") is None
    assert admit(guard, "POST", Origin="https://A.example:443", Host="localhost:7071") is None
    assert admit(guard, "POST", Referer="https://a.example/tools/page", Host="localhost:7071") is None
    assert admit(guard, "POST", Origin="http://a.example", Host="localhost:7071").status == 403
    assert guard.cors_headers({"Origin": "https://a.example"}) == {
        "Access-Control-Allow-Origin": "https://a.example", "Vary": "Origin",
        "Access-Control-Allow-Credentials": "true"}
    assert guard.cors_headers({"Origin": "https://b.example"}) == {}
    assert guard.preflight("OPTIONS", {"Origin": "https://b.example", "Access-Control-Request-Method": "POST"}) is None
    assert Guard(cors_origins=frozenset({"*"})).cors_headers({"Origin": "https://b.example"}) == {
        "Access-Control-Allow-Origin": "*"}
    assert Guard().cors_headers({"Origin": "https://a.example"}) == {}


# -- keys ------------------------------------------------------------------------------------------------------
KEYS = HostKeys(master="M", system_key="S", function_keys=("F",), per_function={"one": ("O",)})


def test_management_takes_the_system_or_master_key_by_header_or_code():
    guard = Guard(keys=KEYS)
    assert admit(guard).status == 401 and admit(guard).message == ""
    assert admit(guard, query={"code": "S"}) is None and admit(guard, query={"CODE": "M"}) is None
    assert admit(guard, x_functions_key="S") is None
    assert admit(guard, query={"code": "F"}).status == 401
    assert admit(guard, path="/admin/host/status", query={"code": "S"}).status == 401
    assert admit(guard, path="/admin/host/status", query={"code": "M"}) is None
    assert admit(guard, path="/admin/functions", query={"code": "S"}).status == 401
    assert admit(guard, path="/admin/devhost/advance", x_functions_key="S") is None
    assert admit(guard, path="/devhost/", query={"code": "S"}) is None and admit(guard, path="/devhost/").status == 401
    assert admit(guard, path="/api/anything") is None  # functions are checked by their authLevel


def test_the_dashboards_scripts_and_styles_need_no_key_its_page_and_api_do():
    guard = Guard(keys=KEYS)
    assert admit(guard, path="/devhost/app.js") is None and admit(guard, path="/devhost/app.css") is None
    assert admit(guard, method="HEAD", path="/devhost/common.js") is None
    assert admit(guard, path="/devhost/").status == 401 and admit(guard, path="/devhost/instances/x.js").status == 401
    assert admit(guard, method="POST", path="/devhost/app.js").status == 401
    assert admit(guard, path="/runtime/webhooks/durabletask/instances/a.js").status == 401


def test_the_dashboards_read_api_is_guarded_as_the_management_api():
    guard = Guard(keys=KEYS)
    for path in ("/devhost/api/instances", "/devhost/api/entities/counter/k.js"):
        assert admit(guard, path=path).status == 401 and admit(guard, path=path, query={"code": "F"}).status == 401
        assert admit(guard, path=path, query={"code": "S"}) is None and admit(guard, path=path, x_functions_key="M") is None
    assert Guard().admit("GET", "http", "/devhost/api/instances", {"Host": "evil.example"}, {}, "127.0.0.1").status == 403


def test_the_rpc_path_needs_no_key_from_this_machine_only():
    guard = Guard(bind="0.0.0.0", keys=KEYS)
    assert admit(guard, path="/durabletask/instances/", peer="127.0.0.1") is None
    assert admit(guard, path="/durabletask/instances/", peer="::1") is None
    assert admit(guard, path="/durabletask/instances/", peer="192.168.1.20").status == 401
    assert admit(guard, path="/durabletask/instances/", peer="192.168.1.20", query={"code": "S"}) is None
    assert admit(guard, path=f"{WEBHOOK}/instances", peer="127.0.0.1").status == 401


def test_function_levels():
    guard = Guard(keys=KEYS)
    allowed = {("function", "one", k) for k in ("O", "F", "M")} | {("admin", f, "M") for f in ("one", "two")} | \
        {("anonymous", f, k) for f in ("one", "two") for k in ("", "O", "F", "M", "S", "x")} | \
        {("function", "two", k) for k in ("F", "M")}
    for level in ("function", "admin", "anonymous"):
        for function in ("one", "two"):
            for key in ("", "O", "F", "M", "S", "x"):
                refusal = guard.function_access(function, level, {}, {"code": key} if key else {})
                assert (refusal is None) == ((level, function, key) in allowed), (level, function, key)
    assert Guard().function_access("one", "admin", {}, {}) is None  # no keys required: as `func start`
    assert guard.function_access("One", "", {"x-functions-key": "O"}, {}) is None  # default level: function
    # the v2 programming model's decorators write the level in capitals (func.AuthLevel.ANONYMOUS -> "ANONYMOUS")
    assert guard.function_access("one", "ANONYMOUS", {}, {}) is None
    assert guard.function_access("one", "FUNCTION", {}, {}).status == 401
    assert guard.function_access("one", "ADMIN", {}, {"code": "F"}).status == 401

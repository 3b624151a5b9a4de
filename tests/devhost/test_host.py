"""devhost.host and the command line: the durableClient payload of docs/protocol.md §1 (checked through the SDK's
own client), the options as `func start` names them, and a whole host started in this process on a free port."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func
import pytest
import requests

from devhost.__main__ import parse_args
from devhost.app.keys import load_keys
from devhost.errors import StoreError
from devhost.host import DEFAULT_PORT, Host, HostOptions
from devhost.runtime.store.sqlite import SqliteStore
from devhost.testing import Client, free_port

pytestmark = [pytest.mark.usefixtures("isolated_imports", "process_state"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def process_state():
    """Host() puts local.settings.json Values into the environment and sets the root log level: undo both."""
    saved_env, saved_level = dict(os.environ), logging.getLogger().level
    yield
    os.environ.clear()
    os.environ.update(saved_env)
    logging.getLogger().setLevel(saved_level)


@pytest.fixture
def loader_app(fixture_apps) -> Path:
    return fixture_apps / "loader_app"


def write_app(root: Path, host: dict | None = None, settings: dict | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "host.json").write_text(json.dumps(host or {"version": "2.0"}), encoding="utf-8")
    if settings is not None:
        (root / "local.settings.json").write_text(json.dumps(settings), encoding="utf-8")
    return root


# -- the durableClient payload --------------------------------------------------------------------
def test_client_payload_has_the_shape_of_protocol_1(tmp_path):
    host = Host(HostOptions(script_root=str(write_app(tmp_path)), port=7071))

    text = host.client_payload()
    payload = json.loads(text)

    assert ", " not in text and ": " not in text  # compact JSON
    assert list(payload) == ["taskHubName", "connectionName", "creationUrls", "managementUrls", "baseUrl",
                             "requiredQueryStringParameters", "rpcBaseUrl", "httpBaseUrl",
                             "maxGrpcMessageSizeInBytes"]
    base = "http://localhost:7071/runtime/webhooks/durabletask"
    instance = f"{base}/instances/INSTANCEID"
    common = "taskHub=TestHubName&connection=Storage"
    assert payload["taskHubName"] == "TestHubName"
    assert payload["connectionName"] is None and payload["httpBaseUrl"] is None
    assert payload["baseUrl"] == base
    assert payload["rpcBaseUrl"] == "http://127.0.0.1:7071/durabletask/"
    assert payload["creationUrls"] == {
        "createNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]",
        "createAndWaitOnNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]"
                                             f"?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}"}
    assert payload["managementUrls"] == {
        "id": "INSTANCEID",
        "statusQueryGetUri": f"{instance}?{common}",
        "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{common}",
        "terminatePostUri": f"{instance}/terminate?reason={{text}}&{common}",
        "rewindPostUri": f"{instance}/rewind?reason={{text}}&{common}",
        "purgeHistoryDeleteUri": f"{instance}?{common}",
        "restartPostUri": f"{instance}/restart?{common}",
        "suspendPostUri": f"{instance}/suspend?reason={{text}}&{common}",
        "resumePostUri": f"{instance}/resume?reason={{text}}&{common}"}
    assert "code=" not in text  # no system key locally


def test_the_hub_name_of_host_json_is_in_every_url(tmp_path):
    app = write_app(tmp_path, {"extensions": {"durableTask": {"hubName": "MyHub"}}})

    payload = json.loads(Host(HostOptions(script_root=str(app), port=7071)).client_payload())

    assert payload["taskHubName"] == "MyHub"
    assert all("taskHub=MyHub&" in url for key, url in payload["managementUrls"].items() if key != "id")


def test_the_sdk_check_status_response_from_the_payload(tmp_path):
    payload = Host(HostOptions(script_root=str(write_app(tmp_path)), port=7071)).client_payload()
    client = df.DurableOrchestrationClient(payload)
    request = func.HttpRequest("POST", "http://127.0.0.1:9999/api/orchestrators/HelloOrchestrator", body=b"")

    response = client.create_check_status_response(request, "abc123")

    body = json.loads(response.get_body())
    assert response.status_code == 202
    assert body["id"] == "abc123"
    assert body["statusQueryGetUri"] == ("http://127.0.0.1:9999/runtime/webhooks/durabletask/instances/abc123"
                                         "?taskHub=TestHubName&connection=Storage")
    assert response.headers["Location"] == body["statusQueryGetUri"]
    assert response.headers["Retry-After"] == "10"
    assert {"sendEventPostUri", "terminatePostUri", "rewindPostUri", "purgeHistoryDeleteUri", "restartPostUri",
            "suspendPostUri", "resumePostUri"} <= set(body)


def test_with_keys_every_url_carries_the_system_key_as_protocol_1_shows(tmp_path):
    host = Host(HostOptions(script_root=str(write_app(tmp_path)), port=7071, require_key=True))
    host.keys = load_keys(tmp_path / "secrets", lambda: "KEY")
    payload = json.loads(host.client_payload())

    assert payload["requiredQueryStringParameters"] == "code=KEY"
    assert payload["creationUrls"] == {
        "createNewInstancePostUri": "http://localhost:7071/runtime/webhooks/durabletask/orchestrators/"
                                    "{functionName}[/{instanceId}]?code=KEY",
        "createAndWaitOnNewInstancePostUri": "http://localhost:7071/runtime/webhooks/durabletask/orchestrators/"
                                             "{functionName}[/{instanceId}]?timeout={timeoutInSeconds}"
                                             "&pollingInterval={intervalInSeconds}&code=KEY"}
    assert payload["managementUrls"]["terminatePostUri"] == (
        "http://localhost:7071/runtime/webhooks/durabletask/instances/INSTANCEID/terminate?reason={text}"
        "&taskHub=TestHubName&connection=Storage&code=KEY")
    assert all(url.endswith("&code=KEY") for name, url in payload["managementUrls"].items() if name != "id")
    response = df.DurableOrchestrationClient(json.dumps(payload)).create_check_status_response(
        func.HttpRequest("POST", "http://127.0.0.1:9999/api/x", body=b""), "abc")
    assert json.loads(response.get_body())["statusQueryGetUri"].endswith("/instances/abc?taskHub=TestHubName"
                                                                         "&connection=Storage&code=KEY")


def test_keys_are_required_when_not_bound_to_loopback_unless_told(tmp_path):
    app = str(write_app(tmp_path))

    assert not Host(HostOptions(script_root=app)).key_required
    assert not Host(HostOptions(script_root=app, host="::1")).key_required
    assert Host(HostOptions(script_root=app, host="0.0.0.0")).key_required
    assert not Host(HostOptions(script_root=app, host="0.0.0.0", require_key=False)).key_required
    assert Host(HostOptions(script_root=app, require_key=True)).key_required


def test_the_workers_durable_client_reaches_the_rpc_api_over_loopback_whatever_the_bind_address(tmp_path):
    """Its calls then come from this machine and need no key; the URLs handed to callers keep the public origin."""
    app = str(write_app(tmp_path))

    def host(bind: str) -> Host:
        return Host(HostOptions(script_root=app, port=1, host=bind))

    def rpc(bind: str) -> str:
        return json.loads(host(bind).client_payload())["rpcBaseUrl"]

    assert rpc("127.0.0.1") == rpc("0.0.0.0") == rpc("localhost") == "http://127.0.0.1:1/durabletask/"
    assert rpc("127.0.0.2") == "http://127.0.0.2:1/durabletask/"
    assert rpc("::1") == "http://[::1]:1/durabletask/"
    assert rpc("192.0.2.7") == rpc("fd00::7") == rpc("myvm.local") == "http://127.0.0.1:1/durabletask/"
    public = json.loads(host("192.0.2.7").client_payload())
    assert public["managementUrls"]["statusQueryGetUri"].startswith("http://192.0.2.7:1/runtime/webhooks/")
    # one address other than loopback: devhost listens on 127.0.0.1 too, for those calls
    assert host("192.0.2.7")._listen_addresses == ["192.0.2.7", "127.0.0.1"]
    assert host("0.0.0.0")._listen_addresses == ["0.0.0.0"] and host("::1")._listen_addresses == ["::1"]


def test_cors_comes_from_flags_and_local_settings_host_section(tmp_path):
    app = str(write_app(tmp_path, settings={"Host": {"CORS": "https://a.example, https://b.example/",
                                                     "CORSCredentials": True}}))
    guard = Host(HostOptions(script_root=app, cors=("https://c.example",))).guard()

    assert guard.cors_origins == {"https://a.example", "https://b.example", "https://c.example"}
    assert guard.cors_credentials


# -- options ----------------------------------------------------------------------------------------
def test_command_line_defaults_are_those_of_func_start():
    options = parse_args([])

    assert (options.script_root, options.port, options.host, options.store) == (".", None, "127.0.0.1", None)
    assert (options.durability, options.time_travel, options.verbose) == ("normal", False, False)


def test_command_line_flags():
    options = parse_args(["--script-root", "app", "--port", "7099", "--host", "0.0.0.0", "--store", "s.sqlite",
                          "--durability", "full", "--time-travel", "--verbose"])

    assert (options.script_root, options.port, options.host, options.store) == ("app", 7099, "0.0.0.0", "s.sqlite")
    assert (options.durability, options.time_travel, options.verbose) == ("full", True, True)
    assert parse_args(["-p", "8000"]).port == 8000
    secured = parse_args(["--allow-host", "a.local", "--allow-host", "b.local", "--cors", "https://x,https://y",
                          "--cors", "https://z", "--cors-credentials", "--require-key"])
    assert secured.allow_hosts == ("a.local", "b.local") and secured.cors == ("https://x", "https://y", "https://z")
    assert secured.cors_credentials and secured.require_key is True
    assert parse_args([]).require_key is None and parse_args(["--no-require-key"]).require_key is False
    assert parse_args(["--enableAuth"]).require_key is True  # Core Tools' name for it
    assert parse_args([]).worker_start_timeout is None  # the setting's, else 60 s
    assert parse_args(["--worker-start-timeout", "2.5"]).worker_start_timeout == 2.5
    for bad in ("0", "-1", "x", "inf"):
        with pytest.raises(SystemExit):
            parse_args(["--worker-start-timeout", bad])


def test_the_port_comes_from_the_flag_then_local_settings_then_7071(tmp_path):
    plain = write_app(tmp_path / "plain")
    configured = write_app(tmp_path / "configured", settings={"Host": {"LocalHttpPort": 7123}})

    assert Host(HostOptions(script_root=str(plain))).port == DEFAULT_PORT == 7071
    assert Host(HostOptions(script_root=str(configured))).port == 7123
    assert Host(HostOptions(script_root=str(configured), port=7200)).port == 7200


def test_the_default_store_is_under_dot_devhost_in_the_script_root(tmp_path):
    host = Host(HostOptions(script_root=str(write_app(tmp_path))))

    assert host.store_path == tmp_path.resolve() / ".devhost" / "store.sqlite"


def test_a_started_host_makes_its_dot_devhost_folder_and_store(tmp_path):
    app = write_app(tmp_path / "app")
    assert not (app / ".devhost").exists()
    server = InProcessHost(HostOptions(script_root=str(app), port=free_port(), in_process=True))
    try:
        server.run(server.host.start())
        assert (app / ".devhost").is_dir() and (app / ".devhost" / "store.sqlite").is_file()
    finally:
        server.close()


def test_a_public_address_shows_in_urls_and_loopback_as_localhost(tmp_path):
    app = str(write_app(tmp_path))

    assert Host(HostOptions(script_root=app, port=1)).public_origin == "http://localhost:1"
    assert Host(HostOptions(script_root=app, port=1, host="192.0.2.7")).public_origin == "http://192.0.2.7:1"


# -- a whole host in this process -------------------------------------------------------------------
class InProcessHost:
    """Host.start()/stop() on a loop thread of its own, so the test can call it with requests."""

    def __init__(self, options: HostOptions) -> None:
        self.host = Host(options)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def close(self) -> None:
        from azure.durable_functions.models.utils import http_utils

        async def close_sdk_session() -> None:  # the SDK's shared session belongs to this loop
            if http_utils._client_session is not None:
                await http_utils._client_session.close()
            http_utils._client_session = None

        self.run(self.host.stop())
        self.run(close_sdk_session())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def running(loader_app, tmp_path, capsys):  # capsys first, so the banner printed at start is captured
    server = InProcessHost(HostOptions(script_root=str(loader_app), port=free_port(), store=str(tmp_path / "s.db"),
                                       in_process=True))
    server.run(server.host.start())
    yield server
    server.close()


def test_the_banner_lists_functions_reported_ones_and_a_ready_line(running, capsys):
    out = capsys.readouterr().out
    port = running.host.port

    assert f"\tGreeter: [GET] http://localhost:{port}/api/greet/{{name}}" in out
    assert f"\tStarter: [ALL] http://localhost:{port}/api/start/{{functionName}}" in out
    assert "\tActivity: activityTrigger" in out and "\tOrchestrator: orchestrationTrigger" in out
    assert "\tQueueWorker: not loaded (devhost cannot fire queueTrigger triggers)" in out
    assert ("\tBlobWriter: [ALL] http://localhost:%d/api/BlobWriter\n\t\tWARNING: output binding 'outblob' (blob) "
            "is accepted and dropped: devhost cannot deliver it" % port) in out
    assert "\tBroken: not loaded (failed to load: ModuleNotFoundError" in out
    assert f"Dashboard: http://localhost:{port}/devhost/" in out
    assert f"devhost ready on http://127.0.0.1:{port} in " in out


def test_the_banner_warns_that_extended_sessions_do_nothing_for_python(tmp_path, capsys):
    durable = {"extendedSessionsEnabled": True}
    for name, host in (("plain", {"version": "2.0"}),
                       ("sessions", {"version": "2.0", "extensions": {"durableTask": durable}})):
        server = InProcessHost(HostOptions(script_root=str(write_app(tmp_path / name, host)), port=free_port(),
                                           store=str(tmp_path / f"{name}.db"), in_process=True))
        try:
            server.run(server.host.start())
        finally:
            server.close()
        warned = [line for line in capsys.readouterr().out.splitlines() if "extendedSessionsEnabled" in line]
        assert warned == ([] if name == "plain" else [
            "WARNING: host.json sets extensions.durableTask.extendedSessionsEnabled, which the Durable extension "
            "ignores for out-of-process languages such as Python; devhost ignores it too."])


def test_the_admin_api_lists_the_functions_as_the_banner_does_and_what_was_not_loaded(running):
    base = f"http://127.0.0.1:{running.host.port}"
    port = running.host.port

    functions = {f["name"]: f for f in requests.get(f"{base}/admin/functions", timeout=10).json()}
    status = requests.get(f"{base}/admin/host/status", timeout=10).json()

    assert set(functions) == {"Activity", "BlobWriter", "Greeter", "Orchestrator", "Starter"}
    greeter = functions["Greeter"]
    assert greeter["invoke_url_template"] == f"http://localhost:{port}/api/greet/{{name}}"
    assert (greeter["language"], greeter["isDisabled"]) == ("python", False)
    assert [b["type"] for b in greeter["config"]["bindings"]] == ["httpTrigger", "http"]
    assert functions["Activity"]["invoke_url_template"] is None
    assert functions["Activity"]["config"]["bindings"][0]["type"] == "activityTrigger"
    assert requests.get(f"{base}/admin/functions/greeter", timeout=10).json() == greeter
    assert requests.get(f"{base}/admin/functions/Nobody", timeout=10).status_code == 404
    assert status["state"] == "Running"
    assert "QueueWorker: not loaded (devhost cannot fire queueTrigger triggers)" in status["errors"]
    assert any(e.startswith("Broken: not loaded (failed to load: ModuleNotFoundError") for e in status["errors"])
    assert requests.post(f"{base}/admin/functions", timeout=10).status_code in (404, 405)  # read-only


def test_the_host_serves_the_app_and_runs_an_orchestration(running):
    client = Client(f"http://127.0.0.1:{running.host.port}")

    greeting = requests.get(client.url("/api/greet/Ada"), timeout=10)
    started = requests.post(client.url("/api/start/Orchestrator"), timeout=10)

    assert (greeting.status_code, greeting.text) == (200, "Hello Ada!!!")
    assert started.status_code == 202, started.text
    status = client.wait(started.json()["id"])
    assert (status["runtimeStatus"], status["output"]) == ("Completed", "Hello Tokyo!")


def test_a_second_host_on_the_same_store_refuses_to_start(running, loader_app):
    second = InProcessHost(HostOptions(script_root=str(loader_app), port=free_port(),
                                       store=str(running.host.store_path), in_process=True))
    try:
        with pytest.raises(StoreError, match="in use by another devhost"):
            second.run(second.host.start())
    finally:
        second.close()


# -- the app owns the lifecycle ---------------------------------------------------------------------
def test_cleaning_up_the_aiohttp_app_stops_the_dispatcher_and_closes_the_store(loader_app, tmp_path):
    """What serves the app (dispatcher, timers, workers, store) lives in the app's cleanup_ctx: cleaning the
    runner up is stopping the host."""
    store = tmp_path / "s.db"
    server = InProcessHost(HostOptions(script_root=str(loader_app), port=free_port(), store=str(store),
                                       in_process=True))
    try:
        server.run(server.host.start())
        tasks = list(server.host.dispatcher.tasks)
        assert tasks and not any(t.done() for t in tasks)

        server.run(server.host.runner.cleanup())

        assert all(t.done() for t in tasks)
        SqliteStore(store).close()  # the lock is released: the store was closed
    finally:
        server.close()  # stopping again is harmless


def test_time_travel_moves_durable_time_and_a_bad_amount_is_the_hosts_400(loader_app, tmp_path):
    server = InProcessHost(HostOptions(script_root=str(loader_app), port=free_port(), store=str(tmp_path / "s.db"),
                                       in_process=True, time_travel=True))
    try:
        server.run(server.host.start())
        url = f"http://127.0.0.1:{server.host.port}/admin/devhost/advance"

        moved = requests.post(url, params={"seconds": "90"}, timeout=10)
        backwards = requests.post(url, params={"seconds": "-5"}, timeout=10)
        nonsense = requests.post(url, params={"seconds": "soon"}, timeout=10)

        assert moved.status_code == 200 and moved.json()["offsetSeconds"] == 90
        for refused in (backwards, nonsense):
            assert refused.status_code == 400
            assert refused.json()["ExceptionType"] == "System.ArgumentException"
        assert server.host.clock.offset == 90
    finally:
        server.close()

"""devhost.app.config: host.json and local.settings.json read as the Functions host reads them."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from devhost.app.config import (
    DEFAULT_HUB,
    apply_values,
    format_timespan,
    func_start_settings,
    load_config,
    threadpool_size,
    worker_process_count,
    worker_start_timeout,
)
from devhost.errors import ConfigError


def write_app(root: Path, host: dict | None = None, settings: dict | None = None) -> Path:
    """A script root with the given host.json (default: the minimal one) and local.settings.json (if any)."""
    (root / "host.json").write_text(json.dumps(host if host is not None else {"version": "2.0"}), encoding="utf-8")
    if settings is not None:
        (root / "local.settings.json").write_text(json.dumps(settings), encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch):
    """The process environment as it was before the test (apply_values writes to it), without WEBSITE_SITE_NAME,
    which changes the default hub."""
    saved = dict(os.environ)
    monkeypatch.delenv("WEBSITE_SITE_NAME", raising=False)
    yield
    os.environ.clear()
    os.environ.update(saved)


# -- host.json --------------------------------------------------------------------------------
def test_minimal_host_json_gives_the_defaults(tmp_path):
    config = load_config(write_app(tmp_path))

    assert config.script_root == tmp_path.resolve()
    assert config.route_prefix == "api"
    assert config.hub_name == DEFAULT_HUB == "TestHubName"
    assert config.log_level == "Information"
    assert config.values == {}
    assert config.local_http_port is None


def test_the_repository_app_is_read_with_the_defaults():
    root = Path(__file__).resolve().parents[3]
    config = load_config(root)

    assert (config.route_prefix, config.hub_name) == ("api", "TestHubName")
    assert config.values["FUNCTIONS_WORKER_RUNTIME"] == "python"


@pytest.mark.parametrize(("prefix", "expected"), [("custom", "custom"), ("/v1/api/", "v1/api"), ("", "")])
def test_route_prefix_comes_from_extensions_http(tmp_path, prefix, expected):
    config = load_config(write_app(tmp_path, {"version": "2.0", "extensions": {"http": {"routePrefix": prefix}}}))

    assert config.route_prefix == expected


def test_hub_name_comes_from_extensions_durable_task(tmp_path):
    config = load_config(write_app(tmp_path, {"extensions": {"durableTask": {"hubName": "MyHub"}}}))

    assert config.hub_name == "MyHub"


def test_hub_name_setting_reference_is_resolved_from_values(tmp_path):
    app = write_app(tmp_path, {"extensions": {"durableTask": {"hubName": "%MyTaskHub%"}}},
                    {"Values": {"MyTaskHub": "FromSettings"}})

    assert load_config(app).hub_name == "FromSettings"


def test_website_site_name_is_the_default_hub(tmp_path, monkeypatch):
    monkeypatch.setenv("WEBSITE_SITE_NAME", "mysite")

    assert load_config(write_app(tmp_path)).hub_name == "mysite"


def test_log_level_comes_from_logging_log_level_default(tmp_path):
    config = load_config(write_app(tmp_path, {"logging": {"logLevel": {"default": "Debug", "Function": "Trace"}}}))

    assert config.log_level == "Debug"


def test_host_json_keys_are_case_insensitive(tmp_path):
    host = {"Extensions": {"HTTP": {"RoutePrefix": "x"}, "DurableTask": {"HubName": "Hub"}},
            "Logging": {"LogLevel": {"Default": "Warning"}}}

    config = load_config(write_app(tmp_path, host))

    assert (config.route_prefix, config.hub_name, config.log_level) == ("x", "Hub", "Warning")


@pytest.mark.parametrize("hub", ["My-Hub", "1Hub", "Hb", "H" * 51, "%Bad%"])
def test_a_hub_name_azure_storage_cannot_hold_stops_the_start_with_the_extensions_words(tmp_path, hub):
    # AzureStorageOptions.ValidateHubName: Azure Storage's name rules and at most 50 characters
    app = write_app(tmp_path, {"extensions": {"durableTask": {"hubName": hub}}}, settings={"Values": {"Bad": "a_b"}})

    with pytest.raises(ConfigError) as caught:
        load_config(app)

    shown = "a_b" if hub == "%Bad%" else hub
    assert str(caught.value) == (f"Task hub name '{shown}' should contain only alphanumeric characters, start with a "
                                 "letter, and have length between 3 and 45.")


def test_a_hub_name_of_up_to_50_characters_is_accepted_as_the_extension_checks_it(tmp_path):
    assert load_config(write_app(tmp_path, {"extensions": {"durableTask": {"hubName": "H" * 50}}})).hub_name == "H" * 50


def test_missing_host_json_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="host.json not found"):
        load_config(tmp_path)


@pytest.mark.parametrize("text", ["{", "{'version': '2.0'}", "", "not json"])
def test_bad_host_json_is_a_config_error_naming_the_file(tmp_path, text):
    (tmp_path / "host.json").write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError, match="host.json is not valid JSON"):
        load_config(tmp_path)


def test_host_json_that_is_not_an_object_is_a_config_error(tmp_path):
    (tmp_path / "host.json").write_text("[1, 2]", encoding="utf-8")

    with pytest.raises(ConfigError, match="must hold a JSON object"):
        load_config(tmp_path)


def test_host_json_in_a_non_utf8_encoding_is_a_config_error(tmp_path):
    (tmp_path / "host.json").write_bytes(b'{"version": "\xff\xfe"}')

    with pytest.raises(ConfigError, match="host.json"):
        load_config(tmp_path)


def test_byte_order_marks_are_accepted(tmp_path):
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"http": {"routePrefix": "bom"}}}),
                                        encoding="utf-8-sig")
    (tmp_path / "local.settings.json").write_text(json.dumps({"Values": {"A": "1"}}), encoding="utf-8-sig")

    config = load_config(tmp_path)

    assert config.route_prefix == "bom"
    assert config.values == {"A": "1"}


# -- local.settings.json ----------------------------------------------------------------------
def test_values_are_read_as_strings(tmp_path):
    app = write_app(tmp_path, settings={"IsEncrypted": False, "Values": {"S": "text", "N": 5, "B": True, "Z": None}})

    assert load_config(app).values == {"S": "text", "N": "5", "B": "True", "Z": ""}


def test_local_http_port_comes_from_the_host_section(tmp_path):
    app = write_app(tmp_path, settings={"Values": {}, "Host": {"LocalHttpPort": 7099}})

    assert load_config(app).local_http_port == 7099


def test_local_http_port_given_as_text_is_a_number(tmp_path):
    app = write_app(tmp_path, settings={"Host": {"LocalHttpPort": "8080"}})

    assert load_config(app).local_http_port == 8080


def test_missing_local_settings_is_fine(tmp_path):
    config = load_config(write_app(tmp_path))

    assert config.values == {} and config.local_http_port is None


def test_bad_local_settings_json_is_a_config_error(tmp_path):
    write_app(tmp_path)
    (tmp_path / "local.settings.json").write_text('{"Values": {', encoding="utf-8")

    with pytest.raises(ConfigError, match="local.settings.json is not valid JSON"):
        load_config(tmp_path)


def test_values_go_into_the_environment_without_overriding(tmp_path, monkeypatch):
    monkeypatch.setenv("DEVHOST_TEST_SET", "from the shell")
    os.environ.pop("DEVHOST_TEST_NEW", None)
    app = write_app(tmp_path, settings={"Values": {"DEVHOST_TEST_SET": "from settings",
                                                   "DEVHOST_TEST_NEW": "from settings"}})

    apply_values(load_config(app), 7071)

    assert os.environ["DEVHOST_TEST_SET"] == "from the shell"
    assert os.environ["DEVHOST_TEST_NEW"] == "from settings"


def test_the_settings_func_start_adds_go_into_the_environment(tmp_path, monkeypatch):
    # Core Tools' StartHostAction.GetConfigurationSettings adds them to the Values; the environment still wins
    for name in ("WEBSITE_HOSTNAME", "AzureWebJobsScriptRoot", "AZURE_FUNCTIONS_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)

    apply_values(load_config(write_app(tmp_path)), 7072)

    assert os.environ["WEBSITE_HOSTNAME"] == "localhost:7072"
    assert os.environ["AzureWebJobsScriptRoot"] == str(tmp_path.resolve())
    assert os.environ["AZURE_FUNCTIONS_ENVIRONMENT"] == "Development"


def test_the_functions_environment_of_local_settings_is_overridden_with_core_tools_warning(tmp_path, caplog):
    app = write_app(tmp_path, settings={"Values": {"AZURE_FUNCTIONS_ENVIRONMENT": "Production"}})

    settings = func_start_settings(load_config(app), 7071)

    assert settings["AZURE_FUNCTIONS_ENVIRONMENT"] == "Development"
    assert "AZURE_FUNCTIONS_ENVIRONMENT already exists with value 'Production', overriding to 'Development'." \
        in caplog.text


def test_loading_the_config_does_not_touch_the_environment(tmp_path):
    os.environ.pop("DEVHOST_TEST_UNTOUCHED", None)

    load_config(write_app(tmp_path, settings={"Values": {"DEVHOST_TEST_UNTOUCHED": "x"}}))

    assert "DEVHOST_TEST_UNTOUCHED" not in os.environ


@pytest.mark.parametrize("port", ["abc", "70.5", -1])
def test_a_local_http_port_that_is_not_a_number_is_a_config_error(tmp_path, port):
    app = write_app(tmp_path, settings={"Host": {"LocalHttpPort": port}})

    with pytest.raises(ConfigError, match="LocalHttpPort must be a port number"):
        load_config(app)


def test_values_that_are_not_an_object_are_a_config_error(tmp_path):
    app = write_app(tmp_path, settings={"Values": ["AzureWebJobsStorage"]})

    with pytest.raises(ConfigError, match="'Values' must be an object"):
        load_config(app)


@pytest.mark.parametrize("value, seconds", [
    (None, 1800.0),  # the host's default off the Consumption plan, which is what Core Tools runs
    ("00:00:05", 5.0), ("00:02:00", 120.0), ("1.02:00:00", 93600.0), ("00:00:01.5", 1.5), ("2", 172800.0),
    ("-1", None), (-1, None),  # no limit
])
def test_function_timeout_is_read_as_a_dotnet_time_span(tmp_path, value, seconds):
    host = {"version": "2.0"} if value is None else {"version": "2.0", "functionTimeout": value}
    assert load_config(write_app(tmp_path, host)).function_timeout == seconds


@pytest.mark.parametrize("value", ["00:00:00", "00:00:00.5", "-00:00:05", "five minutes", "00:61:00"])
def test_a_function_timeout_the_host_refuses_is_a_config_error(tmp_path, value):
    with pytest.raises(ConfigError) as failure:
        load_config(write_app(tmp_path, {"version": "2.0", "functionTimeout": value}))
    assert "functionTimeout" in str(failure.value) or "FunctionTimeout" in str(failure.value)


def test_timeouts_print_as_dotnet_prints_a_time_span():
    assert [format_timespan(s) for s in (5, 120, 93600, 1.5)] == ["00:00:05", "00:02:00", "1.02:00:00",
                                                                 "00:00:01.5000000"]


@pytest.mark.parametrize("value, count", [(None, 1), ("2", 2), ("0", 1), ("-1", 1), ("12", 10), ("two", 1)])
def test_worker_process_count_as_the_host_reads_it(monkeypatch, value, count):
    if value is not None:
        monkeypatch.setenv("FUNCTIONS_WORKER_PROCESS_COUNT", value)
    assert worker_process_count() == count


@pytest.mark.parametrize("value, seconds", [(None, 60.0), ("2.5", 2.5), ("0", 60.0), ("-1", 60.0), ("x", 60.0),
                                            ("inf", 60.0), ("nan", 60.0)])
def test_worker_start_timeout_is_a_positive_number_of_seconds_else_a_minute(monkeypatch, value, seconds):
    monkeypatch.delenv("DEVHOST_WORKER_START_TIMEOUT", raising=False)
    if value is not None:
        monkeypatch.setenv("DEVHOST_WORKER_START_TIMEOUT", value)
    assert worker_start_timeout() == seconds


@pytest.mark.parametrize("value, size", [(None, None), ("1", 1), ("64", 64), ("0", None), ("x", None)])
def test_thread_pool_size_as_the_python_worker_reads_it(monkeypatch, value, size):
    if value is not None:
        monkeypatch.setenv("PYTHON_THREADPOOL_THREAD_COUNT", value)
    assert threadpool_size() == size


def test_durable_concurrency_defaults_to_ten_per_processor(tmp_path):
    config = load_config(write_app(tmp_path, {"version": "2.0"}))
    assert config.max_concurrent_orchestrators == config.max_concurrent_activities == 10 * (os.cpu_count() or 1)


def test_durable_concurrency_is_read_from_host_json(tmp_path):
    durable = {"maxConcurrentOrchestratorFunctions": 3, "MaxConcurrentActivityFunctions": 7}
    config = load_config(write_app(tmp_path, {"version": "2.0", "extensions": {"durableTask": durable}}))
    assert (config.max_concurrent_orchestrators, config.max_concurrent_activities) == (3, 7)


@pytest.mark.parametrize("value", [0, -2, "10", 2.5, True])
def test_a_durable_concurrency_the_host_refuses_is_a_config_error(tmp_path, value):
    durable = {"maxConcurrentActivityFunctions": value}
    with pytest.raises(ConfigError, match="maxConcurrentActivityFunctions must be a positive integer"):
        load_config(write_app(tmp_path, {"version": "2.0", "extensions": {"durableTask": durable}}))


def test_the_app_lease_is_on_unless_host_json_turns_it_off(tmp_path):
    """DurableTaskOptions.UseAppLease is true by default (makeprimary answers 200 then, a 500 without it)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert load_config(write_app(tmp_path / "a", {"version": "2.0"})).use_app_lease is True
    off = write_app(tmp_path / "b", host={"version": "2.0", "extensions": {"durableTask": {"useAppLease": False}}})
    assert load_config(off).use_app_lease is False


def test_max_orchestration_actions_is_read_from_host_json_else_the_extensions_100000(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert load_config(write_app(tmp_path / "a", {"version": "2.0"})).max_orchestration_actions == 100_000
    durable = {"MaxOrchestrationActions": 25}
    assert load_config(write_app(tmp_path / "b", {"version": "2.0", "extensions": {"durableTask": durable}})
                       ).max_orchestration_actions == 25
    with pytest.raises(ConfigError, match="maxOrchestrationActions must be a positive integer"):
        load_config(write_app(tmp_path, {"version": "2.0", "extensions": {"durableTask": {
            "maxOrchestrationActions": 0}}}))


def test_extended_sessions_are_noted_when_host_json_enables_them(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert load_config(write_app(tmp_path / "a", {"version": "2.0"})).extended_sessions is False
    durable = {"extendedSessionsEnabled": True}
    assert load_config(write_app(tmp_path / "b", {"version": "2.0", "extensions": {"durableTask": durable}})
                       ).extended_sessions is True

"""Host configuration read as the Functions host reads it: host.json and local.settings.json."""
from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devhost.errors import ConfigError
from devhost.model import DEFAULT_MAX_ACTIONS

DEFAULT_PORT = 7071  # Core Tools' port when Host.LocalHttpPort does not name one

log = logging.getLogger("devhost")
FUNCTIONS_ENVIRONMENT = "AZURE_FUNCTIONS_ENVIRONMENT"

DEFAULT_HUB = "TestHubName"
# The host's default functionTimeout outside the Consumption plan, which is what Core Tools runs locally
# (ScriptJobHostOptionsSetup.DefaultFunctionTimeout); 5 minutes applies only on the Consumption plan.
DEFAULT_FUNCTION_TIMEOUT = 30 * 60.0
MIN_FUNCTION_TIMEOUT = 1.0
MAX_WORKER_PROCESSES = 10
# How long a worker process may take to import the app and say hello: the Functions host, too, gives a language
# worker about a minute to start and initialize before it gives up on it.
DEFAULT_WORKER_START_TIMEOUT = 60.0
WORKER_START_TIMEOUT_SETTING = "DEVHOST_WORKER_START_TIMEOUT"
# The extension's default for maxConcurrentOrchestratorFunctions and maxConcurrentActivityFunctions outside the
# Consumption plan: ten per processor of the machine.
CONCURRENCY_PER_CORE = 10
DEFAULT_CONCURRENCY = CONCURRENCY_PER_CORE * (os.cpu_count() or 1)


@dataclass(frozen=True)
class HostConfig:
    """What devhost takes from host.json and local.settings.json."""

    script_root: Path
    route_prefix: str = "api"
    hub_name: str = DEFAULT_HUB
    log_level: str = "Information"
    values: dict[str, str] = field(default_factory=dict)
    local_http_port: int | None = None
    cors: tuple[str, ...] = ()  # Host.CORS: origins, comma-separated, as Core Tools reads them
    cors_credentials: bool = False  # Host.CORSCredentials
    function_timeout: float | None = DEFAULT_FUNCTION_TIMEOUT  # seconds; None: no limit ("-1")
    # durableTask's maxConcurrentOrchestratorFunctions and maxConcurrentActivityFunctions: episodes (and entity
    # batches) and activities in flight at once
    max_concurrent_orchestrators: int = DEFAULT_CONCURRENCY
    max_concurrent_activities: int = DEFAULT_CONCURRENCY
    use_app_lease: bool = True  # durableTask's useAppLease (DurableTaskOptions.UseAppLease, true by default)
    max_orchestration_actions: int = DEFAULT_MAX_ACTIONS  # durableTask's maxOrchestrationActions
    extended_sessions: bool = False  # durableTask's extendedSessionsEnabled: no effect on out-of-process languages


def read_json(path: Path, required: bool) -> dict[str, Any]:
    """A file holding one JSON object, as a dict ({} when it is missing and not required); else ConfigError."""
    if not path.exists():
        if required:
            raise ConfigError(f"{path.name} not found in {path.parent}: is this a Functions app?")
        return {}
    try:
        # utf-8-sig: editors on Windows often write a BOM, which the host accepts.
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    return data


def _ci_get(mapping: dict[str, Any], key: str, default: Any = None) -> Any:
    """host.json keys are case-insensitive in the host."""
    for k, v in mapping.items():
        if k.lower() == key.lower():
            return v
    return default


def load_config(script_root: str | os.PathLike[str]) -> HostConfig:
    """Read host.json (required) and local.settings.json (optional) under script_root."""
    root = Path(script_root).resolve()
    host = read_json(root / "host.json", required=True)
    settings = read_json(root / "local.settings.json", required=False)
    extensions = _ci_get(host, "extensions", {}) or {}
    http = _ci_get(extensions, "http", {}) or {}
    durable = _ci_get(extensions, "durableTask", {}) or {}
    logging_cfg = _ci_get(host, "logging", {}) or {}
    levels = _ci_get(logging_cfg, "logLevel", {}) or {}

    prefix = _ci_get(http, "routePrefix", "api")
    raw_values = _ci_get(settings, "Values", {}) or {}
    if not isinstance(raw_values, dict):
        raise ConfigError(f"{root / 'local.settings.json'}: 'Values' must be an object")
    values = {str(k): "" if v is None else str(v) for k, v in raw_values.items()}
    host_section = _ci_get(settings, "Host", {}) or {}
    port = _ci_get(host_section, "LocalHttpPort")
    if port not in (None, "") and not str(port).isdigit():
        raise ConfigError(f"{root / 'local.settings.json'}: Host.LocalHttpPort must be a port number, not {port!r}")
    explicit_hub = _ci_get(durable, "hubName")
    hub = _expand(str(explicit_hub or (
        os.environ.get("WEBSITE_SITE_NAME") or values.get("WEBSITE_SITE_NAME") or DEFAULT_HUB)), values)
    if explicit_hub:
        validate_hub_name(hub)
    return HostConfig(
        script_root=root,
        route_prefix=str(prefix).strip("/"),
        hub_name=hub,
        log_level=str(_ci_get(levels, "default", "Information")),
        values=values,
        local_http_port=int(port) if port not in (None, "") else None,
        cors=tuple(o.strip() for o in str(_ci_get(host_section, "CORS") or "").split(",") if o.strip()),
        cors_credentials=str(_ci_get(host_section, "CORSCredentials", False)).lower() == "true",
        function_timeout=function_timeout(_ci_get(host, "functionTimeout")),
        max_concurrent_orchestrators=_concurrency(durable, "maxConcurrentOrchestratorFunctions"),
        max_concurrent_activities=_concurrency(durable, "maxConcurrentActivityFunctions"),
        use_app_lease=str(_ci_get(durable, "useAppLease", True)).lower() != "false",
        max_orchestration_actions=_positive(durable, "maxOrchestrationActions", DEFAULT_MAX_ACTIONS),
        extended_sessions=str(_ci_get(durable, "extendedSessionsEnabled", False)).lower() == "true",
    )


def _concurrency(durable: dict[str, Any], key: str) -> int:
    """A durableTask concurrency limit: a positive integer, by default ten per processor."""
    return _positive(durable, key, DEFAULT_CONCURRENCY)


def _positive(durable: dict[str, Any], key: str, default: int) -> int:
    """A durableTask setting that must be a positive integer, `default` when host.json leaves it out."""
    value = _ci_get(durable, key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"host.json: extensions.durableTask.{key} must be a positive integer, not {value!r}")
    return value


def _expand(text: str, values: dict[str, str]) -> str:
    """%NAME% app-setting references, as the host resolves them in host.json."""
    if text.startswith("%") and text.endswith("%") and len(text) > 2:
        name = text[1:-1]
        return os.environ.get(name) or values.get(name) or text
    return text


_LEVELS = {"trace": logging.DEBUG, "debug": logging.DEBUG, "information": logging.INFO,
           "warning": logging.WARNING, "error": logging.ERROR, "critical": logging.CRITICAL,
           "none": logging.CRITICAL + 10}


def python_log_level(level: str) -> int:
    """host.json logging.logLevel.default ("Information", "Warning"...) as a Python logging level."""
    return _LEVELS.get(level.strip().lower(), logging.INFO)


_HUB_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,49}")


def validate_hub_name(hub: str) -> None:
    """Stop at start-up on a hub name Azure Storage cannot hold, as the extension does (AzureStorageOptions.
    ValidateHubName: Azure Storage's table, blob, container and queue name rules, and at most 50 characters, whatever
    its message says)."""
    if not _HUB_NAME.fullmatch(hub):
        raise ConfigError(f"Task hub name '{hub}' should contain only alphanumeric characters, start with a letter, "
                          "and have length between 3 and 45.")


def func_start_settings(config: HostConfig, port: int) -> dict[str, str]:
    """local.settings.json Values with what Core Tools adds to them (StartHostAction.GetConfigurationSettings):
    WEBSITE_HOSTNAME (`localhost:<port>`), AzureWebJobsScriptRoot, and AZURE_FUNCTIONS_ENVIRONMENT=Development,
    which overrides a value the file gives, with Core Tools' warning (apps branch on it to skip cloud services)."""
    values = dict(config.values)
    values["WEBSITE_HOSTNAME"] = f"localhost:{port}"
    values["AzureWebJobsScriptRoot"] = str(config.script_root)
    old = values.get(FUNCTIONS_ENVIRONMENT)
    if old is not None:
        log.warning("%s already exists with value '%s', overriding to 'Development'.", FUNCTIONS_ENVIRONMENT, old)
    values[FUNCTIONS_ENVIRONMENT] = "Development"
    return values


def apply_values(config: HostConfig, port: int) -> None:
    """Put the app settings `func start` gives into the environment (the worker processes inherit it), without
    overriding what is already set, as Core Tools' UpdateEnvironmentVariables skips those."""
    for key, value in func_start_settings(config, port).items():
        os.environ.setdefault(key, value)


_TIMESPAN = re.compile(r"^\s*(-)?(?:(\d+)\.)?(\d+):(\d+)(?::(\d+)(?:\.(\d{1,7}))?)?\s*$")
_DAYS = re.compile(r"^\s*(-)?(\d+)\s*$")


def function_timeout(value: Any) -> float | None:
    """host.json functionTimeout in seconds, as the host reads it (a .NET TimeSpan: "hh:mm:ss", "d.hh:mm:ss",
    or a bare number of days): absent gives 30 minutes, "-1" (minus one day) means no limit; anything under one
    second is refused, as the host refuses to start with it."""
    if value is None:
        return DEFAULT_FUNCTION_TIMEOUT
    text = str(value)
    seconds = _timespan_seconds(text)
    if seconds is None:
        raise ConfigError(f"host.json: functionTimeout {text!r} is not a time span (use hh:mm:ss, or -1 for no limit)")
    if seconds == -86400.0:
        return None
    if seconds < MIN_FUNCTION_TIMEOUT:
        raise ConfigError("host.json: FunctionTimeout must be greater than 00:00:01 and less than "
                          "10675199.02:48:05.4775807.")
    return seconds


def _timespan_seconds(text: str) -> float | None:
    days = _DAYS.match(text)
    if days:
        return (-1 if days.group(1) else 1) * int(days.group(2)) * 86400.0
    m = _TIMESPAN.match(text)
    if not m:
        return None
    sign, d, h, mi, s, frac = m.groups()
    if int(h) > 23 or int(mi) > 59 or int(s or 0) > 59:
        return None
    total = int(d or 0) * 86400 + int(h) * 3600 + int(mi) * 60 + int(s or 0) + float(f"0.{frac or 0}")
    return -total if sign else total


def format_timespan(seconds: float) -> str:
    """A duration as .NET prints a TimeSpan ("00:00:05", "1.02:00:00", "00:00:01.5000000"), as in the host's
    timeout message."""
    ticks = round(seconds * 10_000_000)
    days, rest = divmod(ticks, 86400 * 10_000_000)
    hours, rest = divmod(rest, 3600 * 10_000_000)
    minutes, rest = divmod(rest, 60 * 10_000_000)
    secs, fraction = divmod(rest, 10_000_000)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if days:
        text = f"{days}.{text}"
    if fraction:
        text += f".{fraction:07d}"
    return text


def _setting(name: str) -> str | None:
    """An app setting as the worker and host see it: the environment (local.settings.json Values are applied to
    it at start)."""
    value = os.environ.get(name)
    return value.strip() if value is not None and value.strip() else None


def worker_process_count() -> int:
    """FUNCTIONS_WORKER_PROCESS_COUNT: how many worker processes run the app (default 1; 0 or less is 1, as the
    host reads it; more than the host's maximum of 10 is 10)."""
    raw = _setting("FUNCTIONS_WORKER_PROCESS_COUNT")
    try:
        count = int(raw) if raw is not None else 1
    except ValueError:
        logging.getLogger("devhost").warning("FUNCTIONS_WORKER_PROCESS_COUNT must be an integer, not %r; using 1", raw)
        return 1
    if count > MAX_WORKER_PROCESSES:
        logging.getLogger("devhost").warning("FUNCTIONS_WORKER_PROCESS_COUNT is at most %d; using %d",
                                             MAX_WORKER_PROCESSES, MAX_WORKER_PROCESSES)
    return min(max(count, 1), MAX_WORKER_PROCESSES)


def worker_start_timeout() -> float:
    """DEVHOST_WORKER_START_TIMEOUT: seconds a worker process may take to import the app and say hello (default 60);
    not a positive number (logged as a warning) gives the default."""
    raw = _setting(WORKER_START_TIMEOUT_SETTING)
    if raw is None:
        return DEFAULT_WORKER_START_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        logging.getLogger("devhost").warning("%s must be a positive number of seconds, not %r; using %g",
                                             WORKER_START_TIMEOUT_SETTING, raw, DEFAULT_WORKER_START_TIMEOUT)
        return DEFAULT_WORKER_START_TIMEOUT
    return seconds


def threadpool_size() -> int | None:
    """PYTHON_THREADPOOL_THREAD_COUNT as the Python worker reads it: an integer of at least 1 sizes the pool that
    runs `def` functions; unset or invalid (with a warning) gives None, ThreadPoolExecutor's own default
    (min(32, cores + 4))."""
    raw = _setting("PYTHON_THREADPOOL_THREAD_COUNT")
    if raw is None:
        return None
    try:
        count = int(raw)
    except ValueError:
        logging.getLogger("devhost").warning("PYTHON_THREADPOOL_THREAD_COUNT must be an integer")
        return None
    if count < 1:
        logging.getLogger("devhost").warning("PYTHON_THREADPOOL_THREAD_COUNT must be set to a value between 1 and "
                                             "sys.maxint. Reverting to default value for max_workers")
        return None
    return count

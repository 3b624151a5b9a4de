"""Host configuration read as the Functions host reads it: host.json and local.settings.json."""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

DEFAULT_HUB = "TestHubName"


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
    hub = _ci_get(durable, "hubName") or (
        os.environ.get("WEBSITE_SITE_NAME") or values.get("WEBSITE_SITE_NAME") or DEFAULT_HUB)
    return HostConfig(
        script_root=root,
        route_prefix=str(prefix).strip("/"),
        hub_name=_expand(str(hub), values),
        log_level=str(_ci_get(levels, "default", "Information")),
        values=values,
        local_http_port=int(port) if port not in (None, "") else None,
        cors=tuple(o.strip() for o in str(_ci_get(host_section, "CORS") or "").split(",") if o.strip()),
        cors_credentials=str(_ci_get(host_section, "CORSCredentials", False)).lower() == "true",
    )


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


def apply_values(config: HostConfig) -> None:
    """Put local.settings.json Values into the environment, without overriding what is already set."""
    for key, value in config.values.items():
        os.environ.setdefault(key, value)

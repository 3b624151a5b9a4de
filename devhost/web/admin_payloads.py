"""The JSON payloads of the host's read-only admin API: GET /admin/functions (FunctionMetadataResponse, as the
Functions host lists an app's functions) and the functions that were not loaded, with why, for GET /admin/host/status."""
from __future__ import annotations

from typing import Any

from devhost.model import FunctionSpec

LANGUAGE = "python"


def function_metadata(spec: FunctionSpec, origin: str, route_prefix: str) -> dict[str, Any]:
    """One function as the host's admin API shows it: its function.json as `config`, and for an HTTP trigger the
    URL it is invoked at (route parameters left as the template has them)."""
    trigger = spec.trigger
    invoke = None
    if spec.kind == "http" and trigger is not None:
        prefix = f"/{route_prefix}" if route_prefix else ""
        invoke = f"{origin}{prefix}/{trigger.raw.get('route') or spec.name}"
    return {"name": spec.name,
            "script_root_path_href": None, "script_href": None, "config_href": None, "test_data_href": None,
            "secrets_file_href": None,
            "href": f"{origin}/admin/functions/{spec.name}",
            "config": {"name": spec.name, "entryPoint": spec.entry_point, "scriptFile": spec.script_file,
                       "language": LANGUAGE, "functionDirectory": spec.directory,
                       "bindings": [b.raw or {"name": b.name, "type": b.type, "direction": b.direction}
                                    for b in spec.bindings]},
            "files": None, "test_data": None, "invoke_url_template": invoke, "language": LANGUAGE,
            "isDisabled": spec.disabled, "isDirect": False, "isProxy": False}


def load_errors(skipped: list[tuple[str, str]]) -> list[str]:
    """The functions devhost did not load and why, one line each as the start-up banner prints them."""
    return [f"{name}: not loaded ({reason})" for name, reason in skipped]

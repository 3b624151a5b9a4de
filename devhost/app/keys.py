"""The host's access keys (master key, host function keys, the Durable extension's system key, per-function keys),
read from a secrets folder in the Functions host's file format (AzureWebJobsSecretStorageType=files), and
generated there when it has none."""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from devhost.app.config import read_json
from devhost.errors import ConfigError

SYSTEM_KEY_NAME = "durabletask_extension"  # the extension's system key, as Azure names it (App keys > System keys)
SECRETS_PATH_SETTING = "FUNCTIONS_SECRETS_PATH"  # the host's setting for the folder of files-based secrets
HOST_SECRETS = "host.json"


@dataclass(frozen=True)
class HostKeys:
    """The keys devhost checks when keys are required; `generated` tells that they were made by this start."""

    master: str
    system_key: str
    function_keys: tuple[str, ...] = ()  # host keys: valid for every function of authLevel function
    per_function: dict[str, tuple[str, ...]] = field(default_factory=dict)  # function name (lower case) -> keys
    folder: Path = Path(".")
    generated: bool = False

    def function_level(self, function: str) -> list[str]:
        """The keys an authLevel function HTTP function accepts: its own keys, the host keys, the master key."""
        return [*self.per_function.get(function.lower(), ()), *self.function_keys, self.master]


def new_key() -> str:
    """A fresh key: 40 random bytes, URL-safe, so it can stand in `code=` as it is."""
    return secrets.token_urlsafe(40)


def _entry(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value, "encrypted": False}


def _values(path: Path, items: Any) -> dict[str, str]:
    """name -> value of a list of key entries; an encrypted entry cannot be used here."""
    out: dict[str, str] = {}
    for item in items or []:
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            raise ConfigError(f"{path}: every key must be an object with a string 'value'")
        if item.get("encrypted"):
            raise ConfigError(f"{path}: key '{item.get('name')}' is encrypted; devhost reads only plain keys "
                              "(\"encrypted\": false)")
        out[str(item.get("name") or "default")] = item["value"]
    return out


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write a secrets file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2)


def secrets_folder(values: dict[str, str], default: Path) -> Path:
    """FUNCTIONS_SECRETS_PATH from the environment or local.settings.json Values, else `default`."""
    chosen = os.environ.get(SECRETS_PATH_SETTING) or values.get(SECRETS_PATH_SETTING)
    return Path(chosen).expanduser() if chosen else default


def load_keys(folder: Path, make_key: Callable[[], str] = new_key) -> HostKeys:
    """The keys in folder/host.json and folder/<function>.json. A missing host.json, master key or Durable system
    key is generated and written back (mode 600), as the host does on first use; `generated` is then True."""
    path = folder / HOST_SECRETS
    data = read_json(path, required=False)
    master = data.get("masterKey")
    if master is not None and not isinstance(master, dict):
        raise ConfigError(f"{path}: masterKey must be an object with a 'value'")
    master_value = next(iter(_values(path, [master]).values())) if master else None
    functions = _values(path, data.get("functionKeys"))
    system = _values(path, data.get("systemKeys"))
    generated = False
    if master_value is None:
        master_value, generated = make_key(), True
        data["masterKey"] = _entry("master", master_value)
    if not functions and "functionKeys" not in data:
        functions = {"default": make_key()}
        data["functionKeys"] = [_entry("default", functions["default"])]
        generated = True
    if SYSTEM_KEY_NAME not in system:
        system[SYSTEM_KEY_NAME], generated = make_key(), True
        data["systemKeys"] = [*(data.get("systemKeys") or []), _entry(SYSTEM_KEY_NAME, system[SYSTEM_KEY_NAME])]
    if generated:
        _write_private(path, data)
    per_function = {}
    for file in folder.glob("*.json"):
        if file.name.lower() != HOST_SECRETS and not file.name.startswith("."):
            keys = read_json(file, required=True).get("keys")
            per_function[file.stem.lower()] = tuple(_values(file, keys).values())
    return HostKeys(master=master_value, system_key=system[SYSTEM_KEY_NAME], function_keys=tuple(functions.values()),
                    per_function=per_function, folder=folder, generated=generated)

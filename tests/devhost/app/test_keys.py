"""devhost.app.keys: keys read from and generated into a secrets folder in the Functions host's file format."""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from devhost.app.keys import SECRETS_PATH_SETTING, load_keys, new_key, secrets_folder
from devhost.errors import ConfigError


def counter():
    numbers = itertools.count(1)
    return lambda: f"k{next(numbers)}"


def test_a_missing_folder_gets_generated_keys_readable_by_its_owner_only(tmp_path):
    folder = tmp_path / "secrets"
    keys = load_keys(folder, counter())
    assert (keys.master, keys.function_keys, keys.system_key, keys.generated) == ("k1", ("k2",), "k3", True)
    written = json.loads((folder / "host.json").read_text())
    assert written["masterKey"] == {"name": "master", "value": "k1", "encrypted": False}
    assert written["functionKeys"] == [{"name": "default", "value": "k2", "encrypted": False}]
    assert written["systemKeys"] == [{"name": "durabletask_extension", "value": "k3", "encrypted": False}]
    assert (folder / "host.json").stat().st_mode & 0o777 == 0o600
    again = load_keys(folder, counter())
    assert (again.master, again.system_key, again.generated) == ("k1", "k3", False)


def test_existing_keys_are_kept_and_only_the_missing_system_key_is_added(tmp_path):
    (tmp_path / "host.json").write_text(json.dumps({
        "masterKey": {"name": "master", "value": "mine", "encrypted": False},
        "functionKeys": [{"name": "default", "value": "f1"}, {"name": "ci", "value": "f2"}],
        "systemKeys": [{"name": "eventgrid_extension", "value": "eg"}], "hostName": "localhost:7071"}))
    (tmp_path / "Hello.json").write_text(json.dumps({"keys": [{"name": "default", "value": "h1"}]}))
    keys = load_keys(tmp_path, counter())
    assert (keys.master, keys.function_keys, keys.system_key, keys.generated) == ("mine", ("f1", "f2"), "k1", True)
    assert keys.function_level("hello") == ["h1", "f1", "f2", "mine"]
    written = json.loads((tmp_path / "host.json").read_text())
    assert [k["name"] for k in written["systemKeys"]] == ["eventgrid_extension", "durabletask_extension"]
    assert written["hostName"] == "localhost:7071"


@pytest.mark.parametrize("content,message", [
    ({"masterKey": {"name": "master", "value": "CfDJ8...", "encrypted": True}}, "encrypted"),
    ({"masterKey": "plain"}, "masterKey"),
    ({"functionKeys": [{"name": "default"}]}, "string 'value'"),
])
def test_keys_it_cannot_use_are_a_clear_config_error(tmp_path, content, message):
    (tmp_path / "host.json").write_text(json.dumps(content))
    with pytest.raises(ConfigError, match=message):
        load_keys(tmp_path)


def test_the_folder_comes_from_the_environment_then_local_settings_then_the_default(tmp_path, monkeypatch):
    default = tmp_path / "default"
    monkeypatch.delenv(SECRETS_PATH_SETTING, raising=False)
    assert secrets_folder({}, default) == default
    assert secrets_folder({SECRETS_PATH_SETTING: str(tmp_path / "app")}, default) == tmp_path / "app"
    monkeypatch.setenv(SECRETS_PATH_SETTING, str(tmp_path / "env"))
    assert secrets_folder({SECRETS_PATH_SETTING: str(tmp_path / "app")}, default) == Path(tmp_path / "env")


def test_new_keys_are_long_url_safe_and_distinct():
    made = {new_key() for _ in range(50)}
    assert len(made) == 50 and all(len(k) >= 50 and k.replace("-", "").replace("_", "").isalnum() for k in made)

"""Checks host.json, local.settings.json and requirements.txt: bundle range, local settings, SDK pin."""

import json
import re
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def load(name):
    return json.loads((ROOT / name).read_text(encoding="utf-8"))


def parse_version(text):
    """'4', '4.*', '4.2' or '4.2.1' -> a 3-tuple; a '*' counts as 0 (the lowest release)."""
    parts = [0 if p == "*" else int(p) for p in text.strip().split(".")]
    return tuple((parts + [0, 0, 0])[:3])


def parse_interval(text):
    """Parse NuGet interval notation such as '[4.*, 5.0.0)' into a membership test."""
    match = re.fullmatch(r"\s*([\[(])\s*([^,]*?)\s*,\s*([^,]*?)\s*([\])])\s*", text)
    assert match, f"not an interval: {text!r}"
    open_, low, high, close = match.groups()
    low, high = parse_version(low) if low else None, parse_version(high) if high else None

    def admits(candidate):
        v = parse_version(candidate)
        above = low is None or (v >= low if open_ == "[" else v > low)
        below = high is None or (v <= high if close == "]" else v < high)
        return above and below

    return admits


def test_parse_interval_reads_inclusive_and_exclusive_bounds():
    admits = parse_interval("[2.*, 3.0.0)")
    assert admits("2.0.0") and admits("2.30.1")
    assert not admits("3.0.0") and not admits("1.9.9")
    assert parse_interval("(1.0, 2.0]")("2.0.0") and not parse_interval("(1.0, 2.0]")("1.0.0")


def test_host_json_is_what_func_init_writes_with_bundle_4():
    assert load("host.json") == {
        "version": "2.0",
        "logging": {
            "applicationInsights": {
                "samplingSettings": {"isEnabled": True, "excludedTypes": "Request"},
            },
        },
        "extensionBundle": {
            "id": "Microsoft.Azure.Functions.ExtensionBundle",
            "version": "[4.*, 5.0.0)",
        },
    }


@pytest.mark.parametrize("bundle", ["4.0.0", "4.5.1", "4.29.0", "4.999.999"])
def test_bundle_range_admits_4x(bundle):
    assert parse_interval(load("host.json")["extensionBundle"]["version"])(bundle)


@pytest.mark.parametrize("bundle", ["1.8.1", "2.0.0", "2.30.1", "3.0.0", "3.33.0", "5.0.0"])
def test_bundle_range_refuses_deprecated_and_future_majors(bundle):
    assert not parse_interval(load("host.json")["extensionBundle"]["version"])(bundle)


def test_local_settings_point_at_azurite_and_the_python_worker():
    assert load("local.settings.json") == {
        "IsEncrypted": False,
        "Values": {
            "AzureWebJobsStorage": "UseDevelopmentStorage=true",
            "FUNCTIONS_WORKER_RUNTIME": "python",
        },
    }


def requirements(path):
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    return [Requirement(line) for line in (l.strip() for l in lines)
            if line and not line.startswith(("#", "-"))]


def test_requirements_hold_only_what_azure_installs():
    reqs = {r.name: r for r in requirements("requirements.txt")}

    assert set(reqs) == {"azure-functions", "azure-functions-durable"}
    durable = reqs["azure-functions-durable"].specifier
    assert "1.7.0" in durable and "1.9.0" in durable
    assert "1.6.0" not in durable and "2.0.0" not in durable


def test_installed_packages_satisfy_the_pins():
    for req in requirements("requirements.txt"):
        assert req.specifier.contains(Version(version(req.name)), prereleases=True), req


def test_test_requirements_reuse_the_app_requirements():
    text = (ROOT / "tests" / "requirements.txt").read_text(encoding="utf-8")
    assert "-r ../requirements.txt" in text.splitlines()
    assert {r.name for r in requirements("tests/requirements.txt")} >= {"pytest", "pathspec"}

"""devhost.model: the one timestamp parser and the management API's paths, defined once."""
from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from devhost.model import WEBHOOK_PATH, history_timestamp, parse_timestamp, status_timestamp

DEVHOST = Path(__file__).resolve().parents[2] / "devhost"
T = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, expected", [
    ("2024-05-01T12:00:00.1234560Z", T),                      # history: seven digits, as .NET writes them
    ("2024-05-01T12:00:00.123456Z", T),                       # the SDK's fireAt
    ("2024-05-01T12:00:00Z", T.replace(microsecond=0)),       # status payloads
    ("2024-05-01T12:00:00.1Z", T.replace(microsecond=100000)),
    ("2024-05-01T14:00:00.123456+02:00", T),                  # an offset
    ("2024-05-01T12:00:00.123456", T),                        # no zone: UTC
    (" 2024-05-01T12:00:00.123456z ", T),
])
def test_every_timestamp_devhost_reads_parses_to_aware_utc(text, expected):
    parsed = parse_timestamp(text)

    assert parsed == expected and parsed.utcoffset() == timedelta(0)


def test_what_devhost_writes_it_reads_back():
    assert parse_timestamp(history_timestamp(T)) == T
    assert parse_timestamp(status_timestamp(T)) == T.replace(microsecond=0)


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01T00:00:00Z", ""])
def test_a_text_that_is_no_timestamp_is_a_value_error(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def string_constants(path: Path) -> list[str]:
    """The string literals of a module, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_the_webhook_path_is_spelled_once():
    spelled = sorted(p.name for p in DEVHOST.glob("*.py")
                     if any(WEBHOOK_PATH in text for text in string_constants(p)))

    assert spelled == ["model.py"]

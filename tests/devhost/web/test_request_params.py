"""devhost.web.request_params: query values read as the extension's TryParse calls read them (int, double)."""
from __future__ import annotations

import math

import pytest

from devhost.web.request_params import dotnet_double, dotnet_int


@pytest.mark.parametrize(("text", "value"), [("25", 25), (" -3 ", -3), ("+7", 7), ("2147483647", 2**31 - 1),
                                             ("2147483648", None), ("1.0", None), ("ten", None), ("", None),
                                             ("1_000", None), (None, None)])
def test_int_try_parse(text, value):
    assert dotnet_int(text) == value


@pytest.mark.parametrize(("text", "value"), [("5", 5.0), (" 2.5 ", 2.5), ("1,000", 1000.0), ("1e2", 100.0),
                                             (".5", 0.5), ("-Infinity", -math.inf), ("soon", None),
                                             ("1_0", None), ("0x10", None), ("", None)])
def test_double_try_parse(text, value):
    assert dotnet_double(text) == value


def test_double_try_parse_reads_nan():
    assert math.isnan(dotnet_double("NaN"))

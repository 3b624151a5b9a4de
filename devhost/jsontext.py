"""JSON text at devhost's edges: request bodies parsed with the nesting limit of the extension's JSON reader, and
stored text shown without ever failing a read."""
from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

# Newtonsoft.Json's JsonReader.MaxDepth default (13.x, which the extension uses): deeper input is a reader error.
MAX_DEPTH = 64
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def too_deep(text: str) -> bool:
    """Whether arrays and objects nest deeper than MAX_DEPTH in valid JSON text. Free when few brackets open."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > MAX_DEPTH


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (JSON numbers are finite).")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a JSON value: it is too large for a number.")
    return value


def parse(text: str) -> Any:
    """A request body's JSON value; ValueError (with the reason) when it is not JSON, nests deeper than MAX_DEPTH
    (as the extension's reader refuses it), or holds NaN, Infinity or a number too large for a double: Python's
    reader takes those, but they cannot be written back as JSON that anyone else (the dashboard, the SDK) reads."""
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_finite)
    except RecursionError:
        raise ValueError(f"The reader's MaxDepth of {MAX_DEPTH} has been exceeded.") from None
    if too_deep(text):
        raise ValueError(f"The reader's MaxDepth of {MAX_DEPTH} has been exceeded.")
    return value


def shown(text: str | None) -> Any:
    """Stored JSON text as the value a status shows: text that is not JSON, or nests deeper than MAX_DEPTH (a
    user function's output can), stays a plain string, so no stored value can make a read fail; None stays None."""
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError:
        return text

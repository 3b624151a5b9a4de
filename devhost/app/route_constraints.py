"""Inline route constraints ({id:int:min(1)}) as ASP.NET Core's router checks them for the Functions host: each
constraint is resolved by name (RouteOptions' default constraint map, names ignoring case) and tests one route value;
a value that fails any constraint means the route does not match (404 when no other route does)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Callable

_WS = r"[\t-\r ]*"  # the white space .NET's number parsing allows around a number (AllowLeadingWhite/TrailingWhite)
_INTEGER = re.compile(rf"{_WS}[+-]?[0-9]+{_WS}")  # NumberStyles.Integer
# NumberStyles.Number (decimal): signs before or after, group separators once a digit was seen, a decimal point
_NUMBER = re.compile(rf"{_WS}(?P<lead>[+-]?)(?:[0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)(?P<trail>[+-]?){_WS}")
# NumberStyles.Float | AllowThousands (double, float): an exponent, no trailing sign
_FLOAT = re.compile(rf"{_WS}[+-]?(?:[0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?{_WS}")
_FLOAT_SYMBOLS = re.compile(rf"{_WS}[+-]?(?:infinity|nan){_WS}", re.IGNORECASE)  # .NET Core 3.0+ symbols
_H = "[0-9A-Fa-f]"
_GUID_D = rf"{_H}{{8}}-{_H}{{4}}-{_H}{{4}}-{_H}{{4}}-{_H}{{12}}"
_GUID = re.compile(rf"{_WS}(?:{_H}{{32}}|{_GUID_D}|\{{{_GUID_D}\}}|\({_GUID_D}\)"
                   rf"|\{{0[xX]{_H}{{1,8}},0[xX]{_H}{{1,4}},0[xX]{_H}{{1,4}},"
                   rf"\{{0[xX]{_H}{{1,2}}(?:,0[xX]{_H}{{1,2}}){{7}}\}}\}}){_WS}")
_ALPHA = re.compile(r"[A-Za-z]*")
_DATE = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})(?:-(?P<d>\d{1,2}))?")
_TIME = re.compile(r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d{1,7})?)?\s*(?P<ampm>[AaPp][Mm])?"
                   r"(?:Z|[+-]\d{1,2}(?::?\d{2})?)?")
_DECIMAL_MAX = Decimal("79228162514264337593543950335")
_INT32 = (-2**31, 2**31 - 1)
_INT64 = (-2**63, 2**63 - 1)


class RouteTemplateError(ValueError):
    """A route template the router cannot build (ASP.NET Core throws while it creates the route)."""


class _CreationError(ValueError):
    """A constructor of a constraint refused its arguments (the resolver wraps that in a RouteCreationException)."""


def _integer(value: str, bounds: tuple[int, int]) -> int | None:
    """int.TryParse / long.TryParse with NumberStyles.Integer and the invariant culture: the number, or None."""
    if not _INTEGER.fullmatch(value):
        return None
    number = int(value.strip("\t\n\v\f\r "))
    return number if bounds[0] <= number <= bounds[1] else None


def _is_decimal(value: str) -> bool:
    m = _NUMBER.fullmatch(value)
    if m is None or (m["lead"] and m["trail"]):
        return False
    digits = value.strip("\t\n\v\f\r +-").replace(",", "")
    try:
        return Decimal(digits).copy_abs() <= _DECIMAL_MAX  # exact: abs() would round to 28 digits
    except InvalidOperation:
        return False


def _is_float(value: str) -> bool:
    """double.TryParse (Float | AllowThousands): since .NET Core 3.0 an overflow is infinity, not a failure."""
    return bool(_FLOAT.fullmatch(value) or _FLOAT_SYMBOLS.fullmatch(value))


def _is_bool(value: str) -> bool:
    return value.strip("\t\n\v\f\r \0").lower() in ("true", "false")


def _is_datetime(value: str) -> bool:
    """DateTime.TryParse with the invariant culture, for the forms a route segment carries: an ISO 8601 date
    (year-month, year-month-day) with or without a time ('T' or a space, seconds, fractions, Z or an offset), or
    a time alone. .NET accepts still more forms (month names, other separators); see docs/devhost.md."""
    text = value.strip()
    if (t := _TIME.fullmatch(text)) is not None:
        return _valid_time(t)
    m = re.fullmatch(r"(?P<date>[^T ]+)(?:[T ] *(?P<time>.+))?", text)
    d = _DATE.fullmatch(m["date"]) if m else None
    if m is None or d is None:
        return False
    try:
        date(int(d["y"]), int(d["m"]), int(d["d"] or 1))
    except ValueError:
        return False
    return m["time"] is None or ((t := _TIME.fullmatch(m["time"])) is not None and _valid_time(t))


def _valid_time(t: re.Match[str]) -> bool:
    hour, minute, second = int(t["h"]), int(t["mi"]), int(t["s"] or 0)
    if not (hour < 24 and minute < 60 and second < 60):
        return False
    return not t["ampm"] or 1 <= hour <= 12


def _utf16_length(value: str) -> int:
    """A .NET string's Length: UTF-16 code units (a character outside the BMP counts two)."""
    return len(value.encode("utf-16-le")) // 2


def _is_file_name(value: str) -> bool:
    """FileNameRouteConstraint.IsFileName: the last '/' segment has a '.' followed by something other than dots."""
    last = value.rsplit("/", 1)[-1]
    dot = last.find(".")
    return dot >= 0 and last[dot + 1:].strip(".") != ""


def _dotnet_regex(pattern: str) -> re.Pattern[str]:
    """A .NET pattern as Python's re reads it (named groups (?<name>...) spelt (?P<name>...)), matched as
    RegexRouteConstraint does: CultureInvariant | IgnoreCase, not anchored unless the pattern anchors itself."""
    try:
        return re.compile(re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", pattern), re.IGNORECASE)
    except re.error as exc:
        raise _CreationError(f"devhost: Python's re cannot read the pattern '{pattern}': {exc}") from None


@dataclass(frozen=True)
class Constraint:
    """One resolved inline constraint: its text as written and the test of a present route value."""

    text: str
    test: Callable[[str], bool]

    def __call__(self, value: str) -> bool:
        return self.test(value)


def _number(text: str, bounds: tuple[int, int]) -> int:
    """Convert.ChangeType(argument, typeof(long or int), InvariantCulture), as the resolver converts arguments."""
    number = _integer(text, bounds)
    if number is None:
        raise _CreationError(f"'{text}' is not a number")
    return number


def _lengths(args: list[str]) -> tuple[int, int]:
    numbers = [_number(a, _INT32) for a in args]
    low, high = numbers[0], numbers[-1]
    if low < 0 or high < 0 or low > high:
        raise _CreationError("lengths must be at least 0, the minimum no more than the maximum")
    return low, high


def _min(args: list[str]) -> Callable[[str], bool]:
    low = _number(args[0], _INT64)
    return lambda v: (n := _integer(v, _INT64)) is not None and n >= low


def _max(args: list[str]) -> Callable[[str], bool]:
    high = _number(args[0], _INT64)
    return lambda v: (n := _integer(v, _INT64)) is not None and n <= high


def _range(args: list[str]) -> Callable[[str], bool]:
    low, high = _number(args[0], _INT64), _number(args[1], _INT64)
    if low > high:
        raise _CreationError("The value for argument 'min' should be less than or equal to the value for the "
                             "argument 'max'.")
    return lambda v: (n := _integer(v, _INT64)) is not None and low <= n <= high


def _length(args: list[str]) -> Callable[[str], bool]:
    low, high = _lengths(args)
    return lambda v: low <= _utf16_length(v) <= high


def _minlength(args: list[str]) -> Callable[[str], bool]:
    low, _ = _lengths(args)
    return lambda v: _utf16_length(v) >= low


def _maxlength(args: list[str]) -> Callable[[str], bool]:
    _, high = _lengths(args)
    return lambda v: _utf16_length(v) <= high


def _regex(args: list[str]) -> Callable[[str], bool]:
    compiled = _dotnet_regex(args[0])
    return lambda v: compiled.search(v) is not None


_PLAIN: dict[str, Callable[[str], bool]] = {
    "int": lambda v: _integer(v, _INT32) is not None,
    "long": lambda v: _integer(v, _INT64) is not None,
    "bool": _is_bool,
    "datetime": _is_datetime,
    "decimal": _is_decimal,
    "double": _is_float,
    "float": _is_float,
    "guid": lambda v: _GUID.fullmatch(v) is not None,
    "alpha": lambda v: _ALPHA.fullmatch(v) is not None,
    "required": lambda v: v != "",
    "file": _is_file_name,
    "nonfile": lambda v: not _is_file_name(v),
}
# The constructors of each constraint type: one that takes one value gets the whole argument text (commas and all,
# as regex needs); otherwise the text is split at commas and a constructor with that many parameters is chosen.
_WITH_ARGUMENTS: dict[str, tuple[str, tuple[int, ...], Callable[[list[str]], Callable[[str], bool]]]] = {
    "min": ("MinRouteConstraint", (1,), _min), "max": ("MaxRouteConstraint", (1,), _max),
    "range": ("RangeRouteConstraint", (2,), _range), "length": ("LengthRouteConstraint", (1, 2), _length),
    "minlength": ("MinLengthRouteConstraint", (1,), _minlength),
    "maxlength": ("MaxLengthRouteConstraint", (1,), _maxlength),
    "regex": ("RegexInlineRouteConstraint", (1,), _regex),
}
_PLAIN_TYPES = {"int": "Int", "long": "Long", "bool": "Bool", "datetime": "DateTime", "decimal": "Decimal",
                "double": "Double", "float": "Float", "guid": "Guid", "alpha": "Alpha", "required": "Required",
                "file": "FileName", "nonfile": "NonFileName"}


def resolve(text: str) -> Constraint | None:
    """DefaultInlineConstraintResolver.ResolveConstraint (ParameterPolicyActivator): 'name' or 'name(arguments)'
    to a constraint; None for a name the constraint map does not hold; a RouteTemplateError, with the words of
    ASP.NET Core's RouteCreationException, where a constructor does not fit or refuses its arguments."""
    name, arguments = text, None
    if "(" in text and text.endswith(")"):
        name, arguments = text[:text.index("(")], text[text.index("(") + 1:-1]
    key = name.lower()
    if key in _PLAIN_TYPES:
        if arguments is not None:
            raise _no_constructor(f"{_PLAIN_TYPES[key]}RouteConstraint", len(arguments.split(",")))
        return Constraint(text, _PLAIN[key])
    if key not in _WITH_ARGUMENTS:
        return None
    type_name, counts, factory = _WITH_ARGUMENTS[key]
    if counts == (1,):
        args = [arguments] if arguments is not None else []
    else:
        args = [a.strip() for a in arguments.split(",")] if arguments is not None else []
        if len(args) not in counts:
            raise _no_constructor(type_name, len(args))
    try:
        if not args:
            raise _CreationError("no argument")
        return Constraint(text, factory(args))
    except _CreationError as exc:
        raise RouteTemplateError(f"An error occurred while trying to create an instance of "
                                 f"'Microsoft.AspNetCore.Routing.Constraints.{type_name}'. ({exc})") from None


def _no_constructor(type_name: str, count: int) -> RouteTemplateError:
    return RouteTemplateError(f"Could not find a constructor for constraint type '{type_name}' with the following "
                              f"number of parameters: {count}.")

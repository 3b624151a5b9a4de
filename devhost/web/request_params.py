"""Query parameters and JSON bodies of a request, read as the extension's HttpApiHandler reads them: names matched
without case, numbers checked, and a body that is not JSON refused with the extension's reader exception."""
from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from aiohttp import web

from devhost import jsontext
from devhost.errors import BadRequest
from devhost.model import parse_timestamp

# Where server.py's body middleware leaves the body it read (a typed key from aiohttp 3.14, a plain one before).
BODY: Any = web.RequestKey("devhost.body", bytes) if hasattr(web, "RequestKey") else "devhost.body"
JSON_READER_EXCEPTION = "Newtonsoft.Json.JsonReaderException"
MAX_TOP = 2**31 - 1  # top is an Int32 in the extension
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
_DOUBLE = re.compile(r"[+-]?([0-9][0-9,]*(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_DOUBLE_WORDS = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf, "+infinity": math.inf,
                 "\u221e": math.inf, "-\u221e": -math.inf}  # en-US NumberFormatInfo's symbols


def continuation(token: str | None) -> dict[str, str]:
    """The continuation header, on every page as the extension adds it: empty on the last page."""
    return {"x-ms-continuation-token": token or ""}


def param(request: web.Request, name: str) -> str | None:
    """A query parameter, its name matched case-insensitively as the extension does."""
    for key, value in request.query.items():
        if key.lower() == name.lower():
            return value
    return None


def params(request: web.Request, name: str) -> list[str]:
    """Every value of a query parameter given more than once (NameValueCollection.GetValues), name without case."""
    return [value for key, value in request.query.items() if key.lower() == name.lower()]


def flag(request: web.Request, name: str, default: bool = False) -> bool:
    """A boolean parameter as bool.TryParse reads it: `true` or `false` in any case, blanks around; anything else
    leaves the default, as the extension's TryGetBooleanQueryParameterValue does."""
    value = (param(request, name) or "").strip().lower()
    return {"true": True, "false": False}.get(value, default)


def dotnet_int(text: str | None) -> int | None:
    """int.TryParse (NumberStyles.Integer): an optional sign and digits, blanks around, within Int32; else None."""
    if text is None or not _INTEGER.fullmatch(text):
        return None
    value = int(text.strip())
    return value if -MAX_TOP - 1 <= value <= MAX_TOP else None


def dotnet_double(text: str | None) -> float | None:
    """double.TryParse (NumberStyles.Float | AllowThousands, en-US): digits with an optional sign, point, exponent
    and thousands commas, blanks around, or NaN / Infinity; None for anything else."""
    if text is None:
        return None
    stripped = text.strip()
    if stripped.lower() in _DOUBLE_WORDS:  # .NET Core 3.0 and later read these without case
        return _DOUBLE_WORDS[stripped.lower()]
    if not _DOUBLE.fullmatch(stripped):
        return None
    return float(stripped.replace(",", ""))


def time_param(request: web.Request, name: str) -> datetime | None:
    """A date and time filter (createdTimeFrom, lastOperationTimeTo...) as the extension's DateTime.TryParse reads
    it: a text that is not a date and time is no filter (None)."""
    text = param(request, name)
    if not text:
        return None
    try:
        return parse_timestamp(text.replace(" ", "+"))  # a "+" of an offset arrives as " " from a query string
    except (ValueError, OverflowError):  # OverflowError: in UTC it falls before year 1 or after year 9999
        return None


def wait_seconds(request: web.Request, name: str) -> float | None:
    """`timeout` or `pollingInterval` of a start or restart, as the extension's TryGetTimeSpanQueryParameterValue
    reads it: a value double.TryParse refuses is no value (None). TimeSpan.FromSeconds refuses NaN and infinities:
    BadRequest for those."""
    value = dotnet_double(param(request, name))
    if value is not None and not math.isfinite(value):
        raise BadRequest(f"'{param(request, name)}' is not a valid value for {name}: a number of seconds is expected.")
    return value


def seconds(request: web.Request, name: str) -> float | None:
    """A query parameter in seconds; None when absent. BadRequest when it is not a number."""
    text = param(request, name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise BadRequest(f"'{text}' is not a valid value for {name}: a number of seconds is expected.")
    return value


def top(request: web.Request) -> int | None:
    """The page size `top`; None when absent or when int.TryParse refuses it (the extension then keeps its default
    page size)."""
    return dotnet_int(param(request, "top"))


async def body(request: web.Request) -> bytes:
    """The request's body: as the body middleware read it within its limits, else (no middleware) read here."""
    read = request.get(BODY)
    return read if read is not None else await request.read()


async def json_text(request: web.Request, require_json_type: bool = False) -> str | None:
    """The body as JSON text; None when empty. BadRequest when it is not JSON. With require_json_type (raiseEvent)
    the body must be application/json and JSON even when empty, as the extension checks it."""
    data = await body(request)
    if require_json_type and request.content_type.lower() != "application/json":
        raise BadRequest("Only application/json request content is supported", bare=True)
    if not data.strip() and not require_json_type:
        return None
    try:
        text = data.decode("utf-8-sig")
        jsontext.parse(text)
    except ValueError as exc:
        raise BadRequest(_reader_error(exc), "Invalid JSON content", JSON_READER_EXCEPTION) from exc
    return text


def _reader_error(exc: ValueError) -> str:
    """Why a body is not JSON, in a sentence (the decoder's own text for bytes that are not UTF-8)."""
    return str(exc) if not isinstance(exc, UnicodeDecodeError) else f"The body is not UTF-8 text: {exc.reason}."

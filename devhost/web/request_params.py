"""Query parameters and JSON bodies of a request, read as the extension's HttpApiHandler reads them: names matched
without case, numbers checked, and a body that is not JSON refused with the extension's reader exception."""
from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from devhost import jsontext
from devhost.errors import BadRequest

# Where server.py's body middleware leaves the body it read (a typed key from aiohttp 3.14, a plain one before).
BODY: Any = web.RequestKey("devhost.body", bytes) if hasattr(web, "RequestKey") else "devhost.body"
JSON_READER_EXCEPTION = "Newtonsoft.Json.JsonReaderException"
MAX_TOP = 2**31 - 1  # top is an Int32 in the extension


def continuation(token: str | None) -> dict[str, str]:
    """The continuation header, on every page as the extension adds it: empty on the last page."""
    return {"x-ms-continuation-token": token or ""}


def param(request: web.Request, name: str) -> str | None:
    """A query parameter, its name matched case-insensitively as the extension does."""
    for key, value in request.query.items():
        if key.lower() == name.lower():
            return value
    return None


def flag(request: web.Request, name: str, default: bool = False) -> bool:
    value = param(request, name)
    return default if value is None else value.strip().lower() == "true"


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
    """The page size `top`; None when absent. BadRequest when it is not an Int32, as the extension's is."""
    top = param(request, "top")
    try:
        value = int(top) if top else None
    except ValueError:
        value = MAX_TOP + 1
    if value is not None and not -MAX_TOP - 1 <= value <= MAX_TOP:
        raise BadRequest(f"'{top}' is not a valid value for top: a whole number up to {MAX_TOP} is expected "
                         f"(0 or less: the default page of 100).")
    return value


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

"""Where recorded histories come from: a devhost store file (exact histories), a JSON file exported from a status
answer (one object or a list; the folded form), a folder of such files, or the base URL of a running host's
management API (paged through, each history fetched). Every failure to read one is a SourceError naming it."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterator

from devhost.errors import DevhostError, StoreError
from devhost.model import RuntimeStatus
from devhost.replay_check.recorded import Recorded, from_store
from devhost.replay_check.unfold import NotAStatus, from_status
from devhost.runtime.store.sqlite import read_orchestrations

SQLITE_HEADER = b"SQLite format 3\x00"
IN_FLIGHT = frozenset({RuntimeStatus.Running, RuntimeStatus.Pending, RuntimeStatus.Suspended})
HISTORY_QUERY = {"showHistory": "true", "showHistoryOutput": "true", "showInput": "true"}
PAGE = 100


class SourceError(DevhostError):
    """A source that cannot be read: a usage error of the replay check."""


def parse_statuses(text: str) -> frozenset[RuntimeStatus]:
    """`Running,Pending,...` (any case) as statuses; SourceError for a name that is not one."""
    statuses = set()
    for part in (p.strip() for p in text.split(",") if p.strip()):
        match = next((s for s in RuntimeStatus if s.value.lower() == part.lower()), None)
        if match is None:
            raise SourceError(f"'{part}' is not a runtime status ({', '.join(s.value for s in RuntimeStatus)})")
        statuses.add(match)
    return frozenset(statuses)


def read(source: str, statuses: frozenset[RuntimeStatus] | None = None,
         instance_id: str | None = None) -> list[Recorded]:
    """The recorded histories a source holds, narrowed to `statuses` (None: the source kind's default, every
    status for files, those in flight for a URL) and to one `instance_id`."""
    if source.startswith(("http://", "https://")):
        found = list(from_url(source, IN_FLIGHT if statuses is None else statuses, instance_id))
    else:
        path = Path(source)
        if path.is_dir():
            found = [r for f in sorted(path.glob("*.json")) for r in from_json_file(f)]
        elif path.is_file():
            with path.open("rb") as file:
                head = file.read(len(SQLITE_HEADER))
            found = from_store_file(path, statuses or frozenset(), instance_id) if head == SQLITE_HEADER \
                else from_json_file(path)
        else:
            raise SourceError(f"{source}: no such file, folder or URL")
    return [r for r in found if (instance_id is None or r.instance_id == instance_id) and
            (not statuses or r.status in {s.value for s in statuses})]


def from_store_file(path: Path, statuses: frozenset[RuntimeStatus], instance_id: str | None) -> list[Recorded]:
    try:
        rows = read_orchestrations(path, statuses, instance_id)
    except StoreError as exc:
        raise SourceError(str(exc)) from exc
    return [from_store(str(path), instance, history) for instance, history in rows]


def from_json_file(path: Path) -> list[Recorded]:
    """One exported status, or a list of them."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read it as JSON: {exc}") from exc
    items = data if isinstance(data, list) else [data]
    try:
        return [from_status(item, str(path)) for item in items]
    except NotAStatus as exc:
        raise SourceError(str(exc)) from exc


def _get(url: str, token: str | None = None) -> tuple[Any, str | None]:
    """GET a JSON answer (sending a continuation token when given) and the next page's token."""
    headers = {"Accept": "application/json", **({"x-ms-continuation-token": token} if token else {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as answer:
            return json.loads(answer.read().decode("utf-8")), answer.headers.get("x-ms-continuation-token")
    except urllib.error.HTTPError as exc:
        raise SourceError(f"{_without_code(url)}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SourceError(f"{_without_code(url)}: {exc}") from exc


def _without_code(url: str) -> str:
    """The URL as a message may show it: its key left out."""
    parts = urllib.parse.urlsplit(url)
    query = [(k, v if k != "code" else "***") for k, v in urllib.parse.parse_qsl(parts.query)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, safe="*")))


def from_url(base: str, statuses: frozenset[RuntimeStatus], instance_id: str | None) -> Iterator[Recorded]:
    """A running host's task hub through its management API (`.../runtime/webhooks/durabletask?code=...`): the
    instances listed page by page (x-ms-continuation-token), each history fetched as an export would have it."""
    parts = urllib.parse.urlsplit(base)
    kept = urllib.parse.parse_qsl(parts.query)  # code, taskHub, connection
    root = parts._replace(path=parts.path.rstrip("/") + "/instances", query="")

    def url(path: str = "", **query: str) -> str:
        return urllib.parse.urlunsplit(root._replace(path=root.path + path,
                                                     query=urllib.parse.urlencode(kept + list(query.items()))))

    if instance_id is not None:
        ids = [instance_id]
    else:
        ids, token = [], None
        while True:
            query = {"top": str(PAGE)}
            if statuses:
                query["runtimeStatus"] = ",".join(sorted(s.value for s in statuses))
            page, token = _get(url(**query), token)
            ids += [str(item.get("instanceId")) for item in page if isinstance(item, dict)
                    and not str(item.get("instanceId")).startswith("@")] \
                if isinstance(page, list) else []  # entities (@name@key) are listed too, as in Azure: no replay
            if not token:
                break
    for one in ids:
        status, _ = _get(url("/" + urllib.parse.quote(one, safe=""), **HISTORY_QUERY))
        try:
            yield from_status(status, _without_code(base))
        except NotAStatus as exc:
            raise SourceError(str(exc)) from exc

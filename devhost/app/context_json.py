"""The orchestration trigger's context JSON decoded in the worker with its played events' decoding kept for the next
episode: an episode's context begins with the same played event texts as the last one's, so only its new events
(and the fields after the history) are decoded again, not the whole history. The result equals json.loads' (else
json.loads decides). The SDK's HistoryEvents built from those played events are kept beside them, and the next
episode's DurableOrchestrationContext gets them instead of building each anew (history_events)."""
from __future__ import annotations

import json
import threading
from typing import Any, Callable

HEAD = '{"history":['
# A context shorter than this is json.loads' at once: its few events cost less to decode than finding and keeping a
# prefix among those of many instances (a Hello chain's contexts are 1-3 KB).
MIN_CHARS = 4096
DEFAULT_CHARS = 2 << 20  # context text kept in all (its decoded events, about five times its size, beside it);
# least recently used go first, and one context over a quarter of it is not kept
_PLAYED_KEY = "IsPlayed"


class _Decoded:
    """A context's leading played events: their text (from the start of the context), their decoded dicts and, once
    a context was built from them, the SDK's HistoryEvents for them (`built`)."""

    __slots__ = ("prefix", "events", "built")

    def __init__(self, prefix: str, events: list[dict[str, Any]]) -> None:
        self.prefix, self.events = prefix, events
        self.built: list[Any] = []


class _Last:
    """The history a thread decoded last, with the kept context it began with and the one kept from it."""

    __slots__ = ("events", "kept", "keeps")

    def __init__(self, events: list[dict[str, Any]], kept: _Decoded | None, keeps: _Decoded | None) -> None:
        self.events, self.kept, self.keeps = events, kept, keeps


class ContextDecoder:
    """json.loads for the contexts devhost's host sends (`{"history":[event,...],...}`, events joined by commas);
    any other text, or one laid out otherwise, is json.loads' own. Thread-safe: pool threads run episodes at once."""

    def __init__(self, max_chars: int = DEFAULT_CHARS, entries: int = 64, min_chars: int = MIN_CHARS) -> None:
        self.max_chars, self.entries, self.min_chars = max_chars, entries, min_chars
        self._kept: list[_Decoded] = []  # most recent last
        self._lock = threading.Lock()
        self._decoder = json.JSONDecoder()
        self._last = threading.local()
        self.reused = 0  # events whose decoding came from a previous context (for tests)
        self.reused_built = 0  # HistoryEvents handed to a later context (for tests)

    def history_events(self, history: Any, make: Callable[..., Any]) -> list[Any] | None:
        """The SDK's HistoryEvents for `history` when it is the history this thread decoded last (the very list):
        the ones built for the same event dicts before, and `make(**event)` for the rest; None for any other list.
        Reused only for equal dicts (the same objects: the comparison stops at identity), which neither make nor the
        SDK changes."""
        last = getattr(self._last, "last", None)
        self._last.last = None
        if last is None or last.events is not history:
            return None
        ready = last.kept.built if last.kept is not None else []
        n = min(len(ready), len(history))
        if n and history[:n] != last.kept.events[:n]:  # type: ignore[union-attr]
            n = 0
        built = ready[:n] + [make(**event) for event in history[n:]]
        self.reused_built += n
        keeps = last.keeps
        if keeps is not None and history[:len(keeps.events)] == keeps.events:
            keeps.built = built[:len(keeps.events)]
        return built

    def loads(self, text: Any) -> Any:
        self._last.last = None
        if not isinstance(text, str) or len(text) < self.min_chars or not text.startswith(HEAD):
            return json.loads(text)
        try:
            return self._decode(text)
        except (ValueError, IndexError):  # not laid out as expected: json.loads parses it (and says what is wrong)
            return json.loads(text)

    def _decode(self, text: str) -> dict[str, Any]:
        kept = self._find(text)
        if kept is None and len(text) > self.max_chars // 4:
            # too long to keep: json.loads at once (decoding event by event would give each event its own copies
            # of the keys, which json.loads shares within a text: megabytes more for a history of 20,000 events)
            return json.loads(text)
        events = list(kept.events) if kept is not None else []
        at = len(kept.prefix) if kept is not None else len(HEAD)
        self.reused += len(events)
        played_to, played_count = (at, len(events)) if kept is not None else (len(HEAD), 0)
        scan = self._decoder.raw_decode
        if text[at] != "]":
            while True:
                event, at = scan(text, at)
                events.append(event)
                if played_count == len(events) - 1 and type(event) is dict and event.get(_PLAYED_KEY) is True:
                    played_count, played_to = len(events), at + 1  # the leading played events, and their comma
                if text[at] == ",":
                    at += 1
                    continue
                if text[at] != "]":
                    raise ValueError("not a comma-separated history")
                break
        at += 1  # past "]"
        if text[at] == "}":
            if text[at + 1:].strip(" \t\n\r"):
                raise ValueError("extra data")
            rest: dict[str, Any] = {}
        elif text[at] == ",":
            rest = json.loads("{" + text[at + 1:])
        else:
            raise ValueError("not an object after the history")
        keeps = None
        if played_count and (kept is None or played_count > len(kept.events)):
            keeps = _Decoded(text[:played_to], events[:played_count])
            self._keep(keeps)
        self._last.last = _Last(events, kept, keeps)
        decoded: dict[str, Any] = {"history": events}
        decoded.update(rest)  # a repeated "history" key wins, as in json.loads
        return decoded

    def _find(self, text: str) -> _Decoded | None:
        with self._lock:
            for i in range(len(self._kept) - 1, -1, -1):
                kept = self._kept[i]
                if text.startswith(kept.prefix):
                    self._kept.append(self._kept.pop(i))
                    return kept
        return None

    def _keep(self, decoded: _Decoded) -> None:
        if len(decoded.prefix) > self.max_chars // 4:
            return
        with self._lock:
            # the one it extends (same instance, a longer history) goes
            self._kept = [k for k in self._kept if not decoded.prefix.startswith(k.prefix)]
            self._kept.append(decoded)
            while len(self._kept) > self.entries or sum(len(k.prefix) for k in self._kept) > self.max_chars:
                self._kept.pop(0)


class JsonWithContexts:
    """The json module, with `loads(text)` (no keywords) by a ContextDecoder: what the SDK's DurableOrchestrationContext
    module gets in the worker, whose from_json decodes each episode's context with it."""

    def __init__(self, decoder: ContextDecoder | None = None) -> None:
        self.decoder = decoder or ContextDecoder()

    def __getattr__(self, name: str) -> Any:
        return getattr(json, name)

    def loads(self, text: Any, **kw: Any) -> Any:
        return json.loads(text, **kw) if kw else self.decoder.loads(text)

"""The histories of the instances whose episodes ran last, kept in memory with each event's stored JSON text, so that
an episode reads its history without a query and a JSON decode per event, and builds its orchestration context from
text encoded once: bounded by the size of their stored text (most recently used first), appended by each episode's
commit and forgotten by whatever the file may disagree with."""
from __future__ import annotations

import collections
from typing import Any

DEFAULT_LIMIT = 4 << 20  # bytes of stored text kept in all; one history may take a quarter of it


class _Kept:
    """One instance's history: its decoded events and their stored texts, one for one."""

    __slots__ = ("events", "texts", "size")

    def __init__(self, events: list[dict[str, Any]], texts: list[str]) -> None:
        self.events, self.texts, self.size = events, texts, sum(map(len, texts))


class HistoryCache:
    """Not thread-safe, as the store is not. A history is handed out as new lists; its events are shared."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = DEFAULT_LIMIT if limit is None else limit
        self._kept: collections.OrderedDict[str, _Kept] = collections.OrderedDict()
        self._bytes = 0

    def get(self, instance_id: str) -> list[dict[str, Any]] | None:
        """A copy of the history kept for the instance; None when none is."""
        kept = self.get_with_texts(instance_id)
        return None if kept is None else kept[0]

    def get_with_texts(self, instance_id: str) -> tuple[list[dict[str, Any]], list[str]] | None:
        """Copies of the history kept for the instance and of its events' stored texts; None when none is."""
        kept = self._kept.get(instance_id)
        if kept is None:
            return None
        self._kept.move_to_end(instance_id)
        return list(kept.events), list(kept.texts)

    def extend(self, instance_id: str, length: int, events: list[dict[str, Any]], texts: list[str]) -> None:
        """The instance's history gained `events` (stored as `texts`) after `length` events: appended in place (no
        copy of what is kept, so an episode's cost does not grow with its history) when the one kept has exactly that
        many, else forgotten (it would no longer be what the file holds)."""
        kept = self._kept.get(instance_id)
        if kept is None or len(kept.events) != length:
            self.forget(instance_id)
            return
        size = sum(map(len, texts))
        if kept.size + size > self.limit // 4:  # outgrew its share: read from the file from now on
            self.forget(instance_id)
            return
        kept.events += events
        kept.texts += texts
        kept.size += size
        self._bytes += size
        self._kept.move_to_end(instance_id)
        self._trim()

    def put(self, instance_id: str, history: list[dict[str, Any]], texts: list[str]) -> None:
        """Keep the instance's whole history with its events' stored texts; one over a quarter of the limit is not
        kept, and the least recently used go to make room."""
        self.forget(instance_id)
        kept = _Kept(history, texts)
        if kept.size > self.limit // 4:  # a long history (or big inputs) is read from the file each time
            return
        self._kept[instance_id] = kept
        self._bytes += kept.size
        self._trim()

    def _trim(self) -> None:
        while self._bytes > self.limit:
            _, dropped = self._kept.popitem(last=False)
            self._bytes -= dropped.size

    def forget(self, instance_id: str) -> None:
        dropped = self._kept.pop(instance_id, None)
        if dropped is not None:
            self._bytes -= dropped.size

    def clear(self) -> None:
        """After a rollback: nothing kept may still be what the file holds."""
        self._kept.clear()
        self._bytes = 0

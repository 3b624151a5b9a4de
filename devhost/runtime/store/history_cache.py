"""The decoded histories of the instances whose episodes ran last, kept in memory so that an episode reads its
history without a query and a JSON decode per event: bounded by the size of their stored text (most recently used
first), appended by each episode's commit and forgotten by whatever the file may disagree with."""
from __future__ import annotations

import collections
from typing import Any

DEFAULT_LIMIT = 4 << 20  # bytes of stored text kept in all; one history may take a quarter of it


class HistoryCache:
    """Not thread-safe, as the store is not. A history is handed out as a new list; its events are shared."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = DEFAULT_LIMIT if limit is None else limit
        self._kept: collections.OrderedDict[str, tuple[list[dict[str, Any]], int]] = collections.OrderedDict()
        self._bytes = 0

    def get(self, instance_id: str) -> list[dict[str, Any]] | None:
        """A copy of the history kept for the instance; None when none is."""
        kept = self._kept.get(instance_id)
        if kept is None:
            return None
        self._kept.move_to_end(instance_id)
        return list(kept[0])

    def extend(self, instance_id: str, length: int, events: list[dict[str, Any]], size: int) -> None:
        """The instance's history gained `events` (`size` bytes of stored text) after `length` events: appended when
        the one kept has exactly that many, else forgotten (it would no longer be what the file holds)."""
        kept = self._kept.get(instance_id)
        if kept is not None and len(kept[0]) == length:
            self.put(instance_id, kept[0] + events, kept[1] + size)
        else:
            self.forget(instance_id)

    def put(self, instance_id: str, history: list[dict[str, Any]], size: int) -> None:
        """Keep the instance's whole history (`size`: its stored text); one over a quarter of the limit is not kept,
        and the least recently used go to make room."""
        self.forget(instance_id)
        if size > self.limit // 4:  # a long history (or big inputs) is read from the file each time
            return
        self._kept[instance_id] = (history, size)
        self._bytes += size
        while self._bytes > self.limit:
            _, (_, dropped) = self._kept.popitem(last=False)
            self._bytes -= dropped

    def forget(self, instance_id: str) -> None:
        dropped = self._kept.pop(instance_id, None)
        if dropped is not None:
            self._bytes -= dropped[1]

    def clear(self) -> None:
        """After a rollback: nothing kept may still be what the file holds."""
        self._kept.clear()
        self._bytes = 0

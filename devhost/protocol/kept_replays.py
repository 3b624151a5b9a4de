"""The shim's replay of each instance's actions, kept from one episode to the next so that an episode replays only the
history that is new since the last (a replay from the start walks the whole history: a sequential orchestration would
cost the square of its length). A kept replay is used only when the new episode provably replays alike from its start:
same execution, the history begins with every event replayed so far, the action list begins with the one replayed so
far, and the replay had stopped where the code waits. Anything else (a restart, a rollback, a rewind, continue-as-new,
changed code) replays from the start. Pure: memory only, no I/O."""
from __future__ import annotations

import collections
from typing import Any

from devhost.protocol.shim import ActionReplay

# The kept replays' size: history events referenced plus event ids scheduled (each a node of the replay's state).
DEFAULT_SIZE = 50_000  # in all; least recently used go first
MAX_ONE = 8_000  # one instance's: a wide fan-out (two episodes whatever its width) gains nothing from being kept


class _Kept:
    """One instance's replay and what it has replayed: the episode's stored history (its events' dicts are shared
    with the store's kept histories) and the keys of that episode's new events (the store reads them back as new
    dicts, so they are compared by what the replay reads of them)."""

    __slots__ = ("replay", "execution_id", "activities", "history", "new_keys", "actions")

    def __init__(self, replay: ActionReplay, execution_id: str, activities: frozenset[str] | None,
                 history: list[dict[str, Any]], new_events: list[dict[str, Any]]) -> None:
        self.replay, self.execution_id, self.activities = replay, execution_id, activities
        self.history, self.new_keys = history, [ActionReplay.key(e) for e in new_events]
        self.actions = replay.actions

    @property
    def size(self) -> int:
        return len(self.history) + len(self.new_keys) + self.replay.next_id

    def rest(self, execution_id: str, activities: frozenset[str] | None, actions: list[dict[str, Any]],
             history: list[dict[str, Any]], new_events: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """The events still to replay when this replay carries on to the episode given; None when it cannot."""
        done, fresh = len(self.history), len(self.new_keys)
        if execution_id != self.execution_id or activities != self.activities or len(history) < done + fresh \
                or len(actions) < len(self.actions):
            return None
        # List comparisons run in C and stop at identity first: the shared events cost a pointer compare each.
        if history[:done] != self.history or actions[:len(self.actions)] != self.actions:
            return None
        if [ActionReplay.key(e) for e in history[done:done + fresh]] != self.new_keys:
            return None
        return history[done + fresh:] + new_events


class KeptReplays:
    """The replays of the instances whose episodes ran last, bounded by their size (_Kept.size). Not thread-safe: the
    engine decides one episode at a time."""

    def __init__(self, max_size: int = DEFAULT_SIZE, max_one: int = MAX_ONE) -> None:
        self.max_size, self.max_one = max_size, max_one
        self._kept: collections.OrderedDict[str, _Kept] = collections.OrderedDict()
        self._size = 0
        self.resumed = 0  # episodes that carried a kept replay on (for tests and benchmarks)

    def replay(self, instance_id: str, execution_id: str, actions: list[dict[str, Any]], now: Any,
               activities: frozenset[str] | None, history: list[dict[str, Any]],
               new_events: list[dict[str, Any]]) -> ActionReplay:
        """The actions replayed against `history` + `new_events`, carried on from the kept replay when it is safe,
        else from the start; raises what ActionReplay.replay raises (and then keeps nothing for the instance). A
        replay that ends blocked is kept for the next episode."""
        kept = self._pop(instance_id)
        rest = None if kept is None else kept.rest(execution_id, activities, actions, history, new_events)
        if kept is not None and rest is not None:
            replay = kept.replay
            replay.resume(actions, rest)
            self.resumed += 1
        else:
            replay = ActionReplay(execution_id, actions, now, activities)
            replay.replay(history + new_events)
        if replay.blocked():
            self._keep(instance_id, _Kept(replay, execution_id, activities, history, new_events))
        return replay

    def forget(self, instance_id: str) -> None:
        self._pop(instance_id)

    def __len__(self) -> int:
        return len(self._kept)

    def _pop(self, instance_id: str) -> _Kept | None:
        kept = self._kept.pop(instance_id, None)
        if kept is not None:
            self._size -= kept.size
        return kept

    def _keep(self, instance_id: str, kept: _Kept) -> None:
        if kept.size > min(self.max_one, self.max_size):
            return
        self._kept[instance_id] = kept
        self._size += kept.size
        while self._size > self.max_size:
            _, dropped = self._kept.popitem(last=False)
            self._size -= dropped.size

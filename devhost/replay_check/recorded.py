"""A recorded history as the replay check takes it: the exact events the SDK replays, and where each one sits in
the source it came from (a store keeps them exactly; an exported status folds them, unfold.py rebuilds them)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from devhost.model import EventType, Instance
from devhost.protocol.shim import Scheduled


class Rebuilt(Protocol):
    """A history rebuilt from a folded one: its events for a given order of what was scheduled together, which a
    replay may correct once it knows the order the code schedules them in (unfold.Unfolded)."""

    def events(self) -> tuple[list[dict[str, Any]], list[int]]: ...

    def reorder(self, event_id: int, code: dict[int, Scheduled]) -> bool: ...


@dataclass
class Recorded:
    """One orchestration instance's recorded history: `events` in the exact form (EventType as integers, EventIds),
    `positions` the 1-based place of each in the source's own list (what a report's `at event k` counts), `count`
    how many events the source lists."""

    source: str
    instance_id: str
    name: str
    status: str
    execution_id: str
    input: str | None  # the input as stored: JSON text
    parent_instance_id: str | None
    events: list[dict[str, Any]] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    count: int = 0
    rebuilt: Rebuilt | None = None  # set when the source held the folded form


def from_store(source: str, instance: Instance, history: list[dict[str, Any]]) -> Recorded:
    """An instance as a devhost store keeps it: the exact history of its current execution."""
    started = next((e for e in history if e["EventType"] == EventType.ExecutionStarted), None)
    stored_input = started.get("Input") if started is not None else instance.input
    return Recorded(source, instance.instance_id, instance.name, instance.status.value, instance.execution_id,
                    stored_input, instance.parent_instance_id, history, list(range(1, len(history) + 1)),
                    len(history))

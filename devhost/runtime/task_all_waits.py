"""Which orchestrators need no replay yet: per instance, the open tasks of the task_all it is blocked on
(EpisodeOutcome.awaits, from engine.decide). A successful completion of one of them is absorbed while others are still open; the
last one, and any other news (a failure, an event, a timer, terminate, suspend), wakes the instance."""
from __future__ import annotations

from devhost.model import EventType, Message

_SUCCESSES = frozenset({EventType.TaskCompleted, EventType.SubOrchestrationInstanceCompleted})


class Waits:
    """In memory only: after a restart every instance is woken once, and its episode says again what it awaits."""

    def __init__(self) -> None:
        self._open: dict[str, set[int]] = {}

    def __contains__(self, instance_id: str) -> bool:
        return instance_id in self._open

    def __len__(self) -> int:
        return len(self._open)

    def expect(self, instance_id: str, awaits: frozenset[int] | None) -> None:
        """The instance's episode committed: it awaits all of these task ids (None or empty: anything wakes it)."""
        if awaits:
            self._open[instance_id] = set(awaits)
        else:
            self._open.pop(instance_id, None)

    def forget(self, instance_id: str) -> None:
        self._open.pop(instance_id, None)

    def absorbs(self, message: Message) -> bool:
        """True when the committed message cannot let the orchestrator code run on, so it stays in the inbox until
        the next episode; False when it must wake the instance (and from then on anything does)."""
        awaits = self._open.get(message.instance_id)
        if awaits is None:
            return False
        event = message.event
        task_id = event.get("TaskScheduledId")
        if event["EventType"] in _SUCCESSES and task_id in awaits:
            awaits.discard(task_id)
            if awaits:
                return True
        del self._open[message.instance_id]
        return False

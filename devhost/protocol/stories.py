"""How a failure is told on the console: one line with the reason, the user's own file:line and, for a common
mistake, a hint (a forgotten `yield`, an `async def` orchestrator, a call to a function that failed to load). Only
the console gets these words: what the API answers stays the extension's (failures.py)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Mapping

from devhost.tracebacks import Frame

# json.dumps of a task the orchestrator returned (or put in its output) instead of yielding it: AtomicTask,
# WhenAllTask, RetryAbleTask, TimerTask...
_TASK_NOT_SERIALIZABLE = re.compile(r"Object of type \w*Task\w* is not JSON serializable")
# an `async def` orchestrator returns a coroutine (an async generator when it also yields), which the SDK cannot use
_ASYNC_ORCHESTRATOR = re.compile(r"Object of type (coroutine|async_generator) is not JSON serializable"
                                 r"|'(coroutine|async_generator)' object has no attribute")
_DOES_NOT_EXIST = re.compile(r"The function '([^']+)' doesn't exist")
_ADDITIONAL_INFO = " Additional info: "  # before the extension's list of the known functions
_DETAILS_SEPARATOR = " \n "  # the SDK's exception text for a failed task: "<Reason> \n <Details JSON>"

MISSING_YIELD = "did you forget `yield` before context.call_activity(...)? An orchestrator yields each task it awaits"
ASYNC_DEF = "orchestrators must be generators (`def` with `yield`), not `async def`"


def reason_line(text: str) -> str:
    """The reason alone, on one line: the Details JSON of a failed task cut off, whitespace runs made one space."""
    return " ".join(text.partition(_DETAILS_SEPARATOR)[0].split())


def mistake_hint(reason: str) -> str | None:
    """The hint for a common orchestrator mistake the reason shows, if any."""
    if _TASK_NOT_SERIALIZABLE.search(reason):
        return MISSING_YIELD
    if _ASYNC_ORCHESTRATOR.search(reason):
        return ASYNC_DEF
    return None


@dataclass(frozen=True)
class Storyteller:
    """Tells failures for one app: file paths relative to its script root, and each function that did not load
    with why (`load_errors`, by name), so that "The function 'X' doesn't exist" can say that X failed to load."""

    script_root: str | None = None
    load_errors: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, script_root: str | os.PathLike[str] | None, skipped: list[tuple[str, str]]) -> "Storyteller":
        return cls(None if script_root is None else str(script_root), {n.lower(): r for n, r in skipped})

    def shown(self, where: Frame | str | None) -> str | None:
        """A frame as `file:line`, or a file, relative to the script root."""
        if where is None or isinstance(where, Frame):
            return where.shown(self.script_root) if where else None
        return Frame(where, 0, "").shown(self.script_root).rsplit(":", 1)[0]

    def load_error(self, reason: str) -> str | None:
        """"'X' failed to load: ..." when the reason says function X does not exist and X is one that did not load."""
        found = _DOES_NOT_EXIST.search(reason)
        why = self.load_errors.get(found.group(1).lower()) if found else None
        if found is None or why is None:
            return None
        name = found.group(1)
        return f"'{name}' {why}" if why.startswith("failed to") else f"'{name}' is not loaded: {why}"

    def tell(self, reason: str, where: Frame | str | None = None) -> str:
        """`<reason> (at <file:line>)`, then the hint or the load error that explains it, in one line."""
        hint, not_loaded = mistake_hint(reason), self.load_error(reason)
        # the load error says more than the extension's list of the functions that did load
        line = reason_line(reason.partition(_ADDITIONAL_INFO)[0] if not_loaded else reason)
        place = self.shown(where)
        if place:
            line = line.rstrip(".") + (f" (at {place})" if isinstance(where, Frame) else f" (in {place})")
        more = [f"Hint: {hint}"] * bool(hint) + [not_loaded] * bool(not_loaded)
        return ". ".join([line.rstrip(".")] + more) if more else line

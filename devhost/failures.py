"""User-code failures as data (durabletask's FailureDetails): the one place where an exception from a function, or
from the built-in HTTP activity, becomes the type, message and stack a history records. A dead worker is no
failure of the code: WorkerCrashed goes on up, and the work runs again."""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Awaitable, TypeVar

from .errors import FunctionTimeoutException, WorkerCrashed

T = TypeVar("T")


@dataclass(frozen=True)
class FailureDetails:
    """Why a function failed: `error_type` and `message` of the exception (the user's own, for an exception from
    the worker process), its `stack_trace`, and `cause`, the failure as the host words it."""

    error_type: str
    message: str
    stack_trace: str
    cause: str

    @classmethod
    def of(cls, exc: BaseException) -> "FailureDetails":
        error_type = getattr(exc, "type_name", type(exc).__name__)  # FunctionError keeps the user's type name
        stack = getattr(exc, "traceback_text", "") or "".join(traceback.format_exception(exc))
        # The host's own timeout reaches the orchestration in its words alone, as the extension reports it.
        cause = str(exc) if isinstance(exc, FunctionTimeoutException) else f"{error_type}: {exc}"
        return cls(error_type, str(exc), stack, cause)

    def activity_reason(self, name: str) -> str:
        """TaskFailed.Reason (docs/protocol.md §4.3)."""
        return f"Activity function '{name}' failed: {self.cause}"


async def guarded(call: Awaitable[T]) -> tuple[T | None, FailureDetails | None]:
    """Await user code: (its value, None), or (None, why it failed). WorkerCrashed is raised on."""
    try:
        return await call, None
    except WorkerCrashed:
        raise
    except Exception as exc:  # whatever user code raises is data from here on
        return None, FailureDetails.of(exc)

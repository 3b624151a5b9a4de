"""devhost's exceptions: one root and the few precise kinds that http maps to status codes."""
from __future__ import annotations


class DevhostError(Exception):
    """Root of every error devhost raises on purpose."""


class ConfigError(DevhostError):
    """host.json, local.settings.json or a function.json cannot be used."""


class StoreError(DevhostError):
    """The store file cannot be opened: locked by another host, corrupt, read-only, or not a devhost store."""


class StoreUnavailable(StoreError):
    """A write could not be committed (disk full, read-only, I/O error) or the store file was deleted or replaced
    while devhost ran: nothing of that write is kept (503)."""


ARGUMENT_ERROR = "One or more of the arguments submitted is incorrect"


class BadRequest(DevhostError):
    """An argument of a management call is wrong: 400, with the body the extension gives. By default its
    ArgumentException answer (Message, ExceptionMessage, ExceptionType, StackTrace); `message` and `exception_type`
    name another exception's answer; `bare` is an answer without an exception: {"Message": text} alone."""

    def __init__(self, text: str, message: str = ARGUMENT_ERROR, exception_type: str = "System.ArgumentException",
                 bare: bool = False) -> None:
        super().__init__(text)
        self.message = message
        self.exception_type = exception_type
        self.bare = bare


class NotFound(DevhostError):
    """The instance, entity or function does not exist (404, empty body)."""


class Gone(DevhostError):
    """The instance is already in a terminal state (410, empty body)."""


class Conflict(DevhostError):
    """An instance with that id is still running: the extension 3.x's OrchestrationAlreadyExistsException, which its
    HTTP API answers with a 500."""


class InvalidOperation(DevhostError):
    """The operation is not valid now: the extension's InvalidOperationException, a 500 (suspending a suspended
    instance, rewinding one that has not failed)."""


class WorkerCrashed(DevhostError):
    """The worker process died while running a function: not the function's failure; the work is retried."""


class WorkerUnavailable(WorkerCrashed):
    """No worker process is up (each one died while starting and the next try is backing off)."""


class FunctionTimeoutException(DevhostError):
    """An invocation ran past host.json's functionTimeout; named and worded as the host's exception."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.traceback_text = f"Microsoft.Azure.WebJobs.Host.FunctionTimeoutException: {message}"


class WorkerStartTimeout(DevhostError):
    """The first worker process did not import the app and say hello within its start deadline: the host cannot
    serve the app, and says which file was being imported."""

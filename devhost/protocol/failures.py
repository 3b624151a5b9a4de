"""User-code failures as data (durabletask's FailureDetails): the one place where an exception from a function, or
from the built-in HTTP activity, becomes the type, message and stack a history records, and where an activity's
failure is worded as the extension words its TaskFailed Reason and Details (docs/protocol.md §5.1). A dead worker is
no failure of the code: WorkerCrashed goes on up, and the work runs again."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Awaitable, TypeVar

from devhost.errors import FunctionTimeoutException, WorkerCrashed
from devhost.tracebacks import Frame, exception_text, user_frame, worker_stack_trace

T = TypeVar("T")

# How the Functions host words a failed invocation of a language worker (its RpcException), and the labels the
# extension's OutOfProcExceptionHelpers looks for in that text.
_RESULT_LABEL, _MESSAGE_LABEL, _STACK_LABEL = "Result:", "\nException:", "\nStack:"
_OUT_OF_PROC_DATA_LABEL = "\n\n$OutOfProcData$:"
_COR_E_EXCEPTION = -2146233088  # HResult of System.Exception and of the exceptions here that keep it


@dataclass(frozen=True)
class FailureDetails:
    """Why a function failed: `error_type` and `message` of the exception (the user's own, for an exception from
    the worker process), its `stack_trace` (as the Python worker reports it: tracebacks.worker_stack_trace),
    `cause`, the failure as the host words it, `host_error`: the host's own exception (a timeout), not the
    worker's, and `where`: the innermost frame of the user's own code, for the console alone (devhost.tracebacks)."""

    error_type: str
    message: str
    stack_trace: str
    cause: str
    host_error: bool
    where: Frame | None

    @classmethod
    def of(cls, exc: BaseException) -> "FailureDetails":
        error_type = getattr(exc, "type_name", type(exc).__name__)  # FunctionError keeps the user's type name
        stack = getattr(exc, "traceback_text", "") or worker_stack_trace(exc)
        # The host's own timeout reaches the orchestration in its words alone, as the extension reports it.
        host_error = isinstance(exc, FunctionTimeoutException)
        cause = str(exc) if host_error else f"{error_type}: {exc}"
        where = None if host_error else user_frame(getattr(exc, "chain_text", "") or exception_text(exc))
        return cls(error_type, str(exc), stack, cause, host_error, where)

    def activity_failed(self, name: str) -> tuple[str, str]:
        """TaskFailed (Reason, Details) of activity `name` that raised, as the extension's TaskActivityShim records
        them: the Reason is `Activity function '<name>' failed: ` and the exception's message; the Details the
        JSON of that .NET exception. For an exception from the worker, that exception is the one the extension
        makes of the host's RpcException text, whose message keeps the space after the `Exception:` label."""
        if self.host_error:
            exception = dotnet_exception("Microsoft.Azure.WebJobs.Host.FunctionTimeoutException",
                                         "Microsoft.Azure.WebJobs.Host", self.message)
            return f"Activity function '{name}' failed: {self.message}", json_text(exception)
        rpc_text = f"Result: Failure{_MESSAGE_LABEL} {self.cause}{_STACK_LABEL} {self.stack_trace}"
        friendly = friendly_message(rpc_text)
        exception = dotnet_exception("System.Exception", "System.Private.CoreLib", friendly,
                                     inner=self._rpc_exception(rpc_text))
        return f"Activity function '{name}' failed: {friendly}", json_text(exception)

    def http_activity_failed(self) -> tuple[str, str]:
        """TaskFailed (Reason, Details) of BuiltIn::HttpActivity when the request could not be sent: the
        extension's TaskHttpActivityShim gives the HttpRequestException's message alone, with no prefix."""
        exception = dotnet_exception("System.Net.Http.HttpRequestException", "System.Net.Http", self.message)
        return self.message, json_text(exception)

    def _rpc_exception(self, rpc_text: str) -> dict[str, Any]:
        """The host's RpcException as the extension's error converter writes it: its public properties (it is not
        marked serializable), TargetSite left out. devhost has no .NET stack of its own to give."""
        return {"$type": "Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException, Microsoft.Azure.WebJobs.Script",
                "IsUserException": False, "RemoteStackTrace": self.stack_trace, "RemoteMessage": self.cause,
                "RemoteTypeName": None, "Message": rpc_text,
                "Data": {"$type": "System.Collections.ListDictionaryInternal, System.Private.CoreLib"},
                "InnerException": None, "HelpLink": None, "Source": None, "HResult": _COR_E_EXCEPTION,
                "StackTrace": None}


def missing_activity(name: str) -> tuple[str, str]:
    """TaskFailed (Reason, Details) of a scheduled activity the app no longer has, as the extension's
    TaskNonexistentActivityShim records it (a task failure the orchestrator can catch)."""
    message = f"Activity function '{name}' does not exist."
    exception = dotnet_exception("Microsoft.Azure.WebJobs.Extensions.DurableTask.FunctionFailedException",
                                 "Microsoft.Azure.WebJobs.Extensions.DurableTask", message)
    return f"Activity function '{name}' failed: {message}", json_text(exception)


def unknown_activity(name: str, known: set[str] | frozenset[str]) -> str:
    """The extension's text for a call to an activity the app does not have (GetInvalidActivityFunctionMessage)."""
    names = ", ".join(f"'{n}'" for n in sorted(known))
    listing = f"The following are the known activity functions: {names}." if known else \
        "No activity functions are currently registered!"
    return (f"The function '{name}' doesn't exist, is disabled, or is not an activity function. "
            f"Additional info: {listing}")


def friendly_message(rpc_text: str) -> str:
    """What the extension keeps of a language worker's failure text (OutOfProcExceptionHelpers): the part between
    the `Exception:` and `Stack:` labels, space included, cut before any `$OutOfProcData$`; the text itself when
    it is not worded as a worker's failure."""
    if not (rpc_text.startswith(_RESULT_LABEL) and _MESSAGE_LABEL in rpc_text and _STACK_LABEL in rpc_text):
        return rpc_text
    start = rpc_text.index(_MESSAGE_LABEL) + len(_MESSAGE_LABEL)
    text = rpc_text[start:rpc_text.index(_STACK_LABEL)]
    return text.partition(_OUT_OF_PROC_DATA_LABEL)[0]


def dotnet_exception(type_name: str, assembly: str, message: str, inner: dict[str, Any] | None = None) \
        -> dict[str, Any]:
    """A serializable .NET exception as Newtonsoft.Json writes it with type names (the extension's error
    converter): `$type`, then the fields of Exception.GetObjectData. It was never thrown, so it has no stack."""
    return {"$type": f"{type_name}, {assembly}", "ClassName": type_name, "Message": message, "Data": None,
            "InnerException": inner, "HelpURL": None, "StackTraceString": None, "RemoteStackTraceString": None,
            "RemoteStackIndex": 0, "ExceptionMethod": None, "HResult": _COR_E_EXCEPTION, "Source": None,
            "WatsonBuckets": None}


def json_text(value: Any) -> str:
    """Compact JSON, as Newtonsoft.Json writes it by default."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def guarded(call: Awaitable[T]) -> tuple[T | None, FailureDetails | None]:
    """Await user code: (its value, None), or (None, why it failed). WorkerCrashed is raised on."""
    try:
        return await call, None
    except WorkerCrashed:
        raise
    except Exception as exc:  # whatever user code raises is data from here on
        return None, FailureDetails.of(exc)

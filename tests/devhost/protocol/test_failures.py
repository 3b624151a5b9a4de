"""devhost.protocol.failures: every user-code failure becomes one FailureDetails, worded as the host words it; a dead
worker is not a failure of the code and goes on up."""
from __future__ import annotations

import asyncio
import json

import pytest

from devhost.errors import FunctionTimeoutException, WorkerCrashed
from devhost.protocol.failures import FailureDetails, friendly_message, guarded, missing_activity, unknown_activity
from devhost.workers.process import FunctionError


def raised(exc: BaseException) -> BaseException:
    """The exception with a traceback, as an except clause sees it."""
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_a_plain_exception_keeps_its_type_message_and_its_frames():
    failure = FailureDetails.of(raised(ValueError("bad input")))

    assert (failure.error_type, failure.message, failure.cause) == ("ValueError", "bad input", "ValueError: bad input")
    # the frames alone, as the Python worker's RpcException.stack_trace carries them
    assert failure.stack_trace.startswith("  File ") and failure.stack_trace.rstrip().endswith("raise exc")


def test_a_failure_from_the_worker_keeps_the_users_type_and_traceback():
    failure = FailureDetails.of(FunctionError("KeyError", "'city'", '  File "f.py", line 3, in main\n'))

    assert (failure.error_type, failure.cause) == ("KeyError", "KeyError: 'city'")
    assert failure.stack_trace == '  File "f.py", line 3, in main\n'


def test_an_activity_that_raised_is_reasoned_with_the_space_the_extension_keeps():
    # TaskActivityShim: "Activity function '<name>' failed: " + the message OutOfProcExceptionHelpers cuts out of
    # "Result: Failure\nException: <Type>: <message>\nStack: <frames>", which starts with the label's space.
    failure = FailureDetails.of(FunctionError("ValueError", "bad input", '  File "f.py", line 3, in main\n'))

    reason, details = failure.activity_failed("Hello")

    assert reason == "Activity function 'Hello' failed:  ValueError: bad input"
    exception = json.loads(details)
    assert exception["$type"] == "System.Exception, System.Private.CoreLib"
    assert (exception["ClassName"], exception["Message"]) == ("System.Exception", " ValueError: bad input")
    inner = exception["InnerException"]
    assert inner["$type"].startswith("Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException, ")
    assert inner["Message"] == 'Result: Failure\nException: ValueError: bad input\nStack:   File "f.py", line 3, in main\n'
    assert (inner["RemoteMessage"], inner["RemoteStackTrace"]) == ("ValueError: bad input",
                                                                   '  File "f.py", line 3, in main\n')
    assert "\n" not in details  # one line: the SDK's exception text is "<Reason> \n <Details>"


def test_the_users_message_is_cut_where_the_extension_cuts_it():
    assert friendly_message("Result: Failure\nException: E: a\n\n$OutOfProcData$:{}\nStack: s") == " E: a"
    assert friendly_message("Result: Failure\nException: E: a\nStack: b\nStack: c") == " E: a"
    assert friendly_message("not a worker's failure") == "not a worker's failure"
    # worded as a worker's failure only with all three labels, the result first
    assert friendly_message("Result: Failure, no labels") == "Result: Failure, no labels"
    assert friendly_message("Result: Failure\nException: E: a") == "Result: Failure\nException: E: a"
    assert friendly_message("Failure\nException: E: a\nStack: s") == "Failure\nException: E: a\nStack: s"


def test_the_hosts_timeout_is_worded_in_its_own_words_alone():
    message = "Timeout value of 00:00:01 was exceeded by function: Functions.Slow"

    reason, details = FailureDetails.of(FunctionTimeoutException(message)).activity_failed("Slow")

    assert reason == f"Activity function 'Slow' failed: {message}"
    exception = json.loads(details)
    assert (exception["ClassName"], exception["Message"]) == ("Microsoft.Azure.WebJobs.Host.FunctionTimeoutException",
                                                              message)


def test_a_scheduled_activity_the_app_lost_fails_its_task_in_the_extensions_words():
    reason, details = missing_activity("Gone")

    assert reason == "Activity function 'Gone' failed: Activity function 'Gone' does not exist."
    exception = json.loads(details)
    assert exception["ClassName"] == "Microsoft.Azure.WebJobs.Extensions.DurableTask.FunctionFailedException"
    assert exception["Message"] == "Activity function 'Gone' does not exist."


def test_an_unknown_activity_is_named_with_the_known_ones():
    assert unknown_activity("Nope", {"B", "A"}) == (
        "The function 'Nope' doesn't exist, is disabled, or is not an activity function. Additional info: "
        "The following are the known activity functions: 'A', 'B'.")
    assert unknown_activity("Nope", set()).endswith("Additional info: No activity functions are currently registered!")


def test_a_request_the_http_activity_cannot_send_is_reasoned_by_its_message_alone():
    reason, details = FailureDetails.of(raised(OSError("Connection refused"))).http_activity_failed()

    assert reason == "Connection refused"
    assert json.loads(details)["ClassName"] == "System.Net.Http.HttpRequestException"


def test_guarded_returns_the_value_or_the_failure():
    async def ok():
        return 42

    async def broken():
        raise RuntimeError("no")

    assert asyncio.run(guarded(ok())) == (42, None)
    value, failure = asyncio.run(guarded(broken()))
    assert value is None and failure.cause == "RuntimeError: no"


def test_guarded_lets_a_dead_worker_through():
    async def dies():
        raise WorkerCrashed("the worker process exited with code 7")

    with pytest.raises(WorkerCrashed):
        asyncio.run(guarded(dies()))


def test_the_users_own_frame_is_kept_for_the_console_from_the_whole_chain():
    # the worker's chain: the SDK's exception raised from the one the user's generator let through
    chain = ('Traceback (most recent call last):\n  File "/home/me/app/Chain/__init__.py", line 6, in orchestrator\n'
             'Exception: boom\n\nThe above exception was the direct cause of the following exception:\n\n'
             'Traceback (most recent call last):\n  File "/usr/x/site-packages/azure/durable_functions/o.py", line 4,'
             ' in handle\nException: boom')
    failure = FailureDetails.of(FunctionError("Exception", "boom", "  File \"o.py\", line 4, in handle\n", chain))

    assert (failure.where.file, failure.where.line) == ("/home/me/app/Chain/__init__.py", 6)
    assert failure.stack_trace == "  File \"o.py\", line 4, in handle\n"  # what the history records is unchanged
    assert FailureDetails.of(FunctionTimeoutException("Timeout value of 00:00:01 was exceeded")).where is None


# -- the whole Details text, as Newtonsoft.Json writes a serializable .NET exception (issue 24) -----------------
# Exception.GetObjectData's fields in its order, after `$type`: what the extension's error converter writes for an
# exception that was never thrown (no stack, no source), HResult COR_E_EXCEPTION.
def exception_json(type_name: str, assembly: str, message: str, inner: str = "null") -> str:
    return (f'{{"$type":"{type_name}, {assembly}","ClassName":"{type_name}","Message":{json.dumps(message)},'
            f'"Data":null,"InnerException":{inner},"HelpURL":null,"StackTraceString":null,'
            f'"RemoteStackTraceString":null,"RemoteStackIndex":0,"ExceptionMethod":null,"HResult":-2146233088,'
            f'"Source":null,"WatsonBuckets":null}}')


def test_a_lost_activitys_details_are_the_whole_exception_json():
    _, details = missing_activity("Gone")

    assert details == exception_json("Microsoft.Azure.WebJobs.Extensions.DurableTask.FunctionFailedException",
                                     "Microsoft.Azure.WebJobs.Extensions.DurableTask",
                                     "Activity function 'Gone' does not exist.")


def test_the_http_activitys_details_name_the_system_net_http_assembly():
    _, details = FailureDetails.of(raised(OSError("Connection refused"))).http_activity_failed()

    assert details == exception_json("System.Net.Http.HttpRequestException", "System.Net.Http", "Connection refused")


def test_a_timeouts_details_are_the_whole_exception_json():
    message = "Timeout value of 00:00:01 was exceeded by function: Functions.Slow"

    _, details = FailureDetails.of(FunctionTimeoutException(message)).activity_failed("Slow")

    assert details == exception_json("Microsoft.Azure.WebJobs.Host.FunctionTimeoutException",
                                     "Microsoft.Azure.WebJobs.Host", message)


def test_a_worker_failures_details_wrap_the_rpc_exception_with_its_public_properties():
    stack = '  File "f.py", line 3, in main\n'
    _, details = FailureDetails.of(FunctionError("ValueError", "bad input", stack)).activity_failed("Hello")

    rpc_text = f"Result: Failure\nException: ValueError: bad input\nStack: {stack}"
    rpc = ('{"$type":"Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException, Microsoft.Azure.WebJobs.Script",'
           f'"IsUserException":false,"RemoteStackTrace":{json.dumps(stack)},'
           f'"RemoteMessage":"ValueError: bad input","RemoteTypeName":null,"Message":{json.dumps(rpc_text)},'
           '"Data":{"$type":"System.Collections.ListDictionaryInternal, System.Private.CoreLib"},'
           '"InnerException":null,"HelpLink":null,"Source":null,"HResult":-2146233088,"StackTrace":null}')
    assert details == exception_json("System.Exception", "System.Private.CoreLib", " ValueError: bad input", rpc)


def outer():
    inner()


def inner():
    raise KeyError("city")


def test_the_stack_of_a_python_exception_is_its_frames_one_after_the_other():
    try:
        outer()
    except KeyError as exc:
        failure = FailureDetails.of(exc)

    assert (failure.where.file, failure.where.function) == (__file__, "inner")  # the innermost frame, for the console
    lines = failure.stack_trace.splitlines()
    assert [line.split(", in ")[-1] for line in lines[::2]] == [
        "test_the_stack_of_a_python_exception_is_its_frames_one_after_the_other", "outer", "inner"]
    assert [line.strip() for line in lines[1::2]] == ["outer()", "inner()", 'raise KeyError("city")']
    assert all(line.startswith('  File "') for line in lines[::2]) and failure.stack_trace.endswith("\n")


def test_details_keep_non_ascii_text_as_it_is():
    _, details = FailureDetails.of(FunctionError("ValueError", "café ünïcode", "")).activity_failed("Hello")

    assert "café ünïcode" in details and "\\u" not in details

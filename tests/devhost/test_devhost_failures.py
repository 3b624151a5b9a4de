"""devhost.failures: every user-code failure becomes one FailureDetails, worded as the host words it; a dead
worker is not a failure of the code and goes on up."""
from __future__ import annotations

import asyncio

import pytest

from devhost.errors import FunctionTimeoutException, WorkerCrashed
from devhost.failures import FailureDetails, guarded
from devhost.worker import FunctionError


def raised(exc: BaseException) -> BaseException:
    """The exception with a traceback, as an except clause sees it."""
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_a_plain_exception_keeps_its_type_message_and_stack():
    failure = FailureDetails.of(raised(ValueError("bad input")))

    assert (failure.error_type, failure.message, failure.cause) == ("ValueError", "bad input", "ValueError: bad input")
    assert "raise exc" in failure.stack_trace and failure.stack_trace.rstrip().endswith("ValueError: bad input")
    assert failure.activity_reason("Hello") == "Activity function 'Hello' failed: ValueError: bad input"


def test_a_failure_from_the_worker_keeps_the_users_type_and_traceback():
    failure = FailureDetails.of(FunctionError("KeyError", "'city'", "Traceback ...\nKeyError: 'city'\n"))

    assert (failure.error_type, failure.cause) == ("KeyError", "KeyError: 'city'")
    assert failure.stack_trace == "Traceback ...\nKeyError: 'city'\n"


def test_the_hosts_timeout_is_worded_in_its_own_words_alone():
    message = "Timeout value of 00:00:01 was exceeded by function: Functions.Slow"

    failure = FailureDetails.of(FunctionTimeoutException(message))

    assert failure.activity_reason("Slow") == f"Activity function 'Slow' failed: {message}"
    assert failure.stack_trace.startswith("Microsoft.Azure.WebJobs.Host.FunctionTimeoutException")


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

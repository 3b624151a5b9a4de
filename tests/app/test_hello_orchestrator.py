"""Unit tests for HelloOrchestrator's generator, driven by the SDK's testing wrapper and a mocked context."""

import importlib
from unittest.mock import MagicMock, call

import azure.durable_functions as df
import pytest
from azure.durable_functions.testing import orchestrator_generator_wrapper

orchestrator = importlib.import_module("HelloOrchestrator")

CITIES = ["Tokyo", "Seattle", "London"]
BOOM = "Activity function 'Hello' failed: ValueError: boom"


class FakeTask:
    """Stands in for the task `call_activity` returns; the wrapper reads only `.result`."""

    def __init__(self, result=None, error=None):
        self._result = result
        self._error = error

    @property
    def result(self):
        if self._error is not None:
            raise self._error
        return self._result


def mocked_context(failing_city=None):
    """Return a mocked context and the list of tasks its call_activity hands out, in order.

    Each task completes with the greeting Hello would return, except `failing_city`'s, which
    raises as the SDK raises a TaskFailed into the orchestrator.
    """
    context = MagicMock(spec=df.DurableOrchestrationContext)
    issued = []

    def call_activity(name, input_=None):
        if input_ == failing_city:
            task = FakeTask(error=Exception(BOOM))
        else:
            task = FakeTask(result=f"Hello {input_}!")
        issued.append(task)
        return task

    context.call_activity.side_effect = call_activity
    return context, issued


def run(context):
    return list(orchestrator_generator_wrapper(orchestrator.orchestrator_function(context)))


def test_calls_hello_for_each_city_in_order_and_returns_the_greetings():
    context, issued = mocked_context()

    *yielded, result = run(context)

    assert context.call_activity.call_args_list == [call("Hello", city) for city in CITIES]
    assert yielded == issued
    assert result == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


@pytest.mark.parametrize("failing_city", CITIES)
def test_an_activity_failure_propagates_and_stops_the_chain(failing_city):
    context, _ = mocked_context(failing_city)

    with pytest.raises(Exception, match=BOOM):
        run(context)

    called = CITIES[: CITIES.index(failing_city) + 1]
    assert context.call_activity.call_args_list == [call("Hello", city) for city in called]


def test_main_is_the_sdk_handle_around_the_generator():
    assert orchestrator.main.orchestrator_function is orchestrator.orchestrator_function

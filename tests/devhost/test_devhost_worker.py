"""devhost.worker: the worker process imports the app and runs its functions for the host: results and user
failures come back over the socket pair, and a worker that dies is replaced while its calls fail as
WorkerCrashed (retried by the dispatcher, never recorded as the function's failure)."""
from __future__ import annotations

import asyncio

import pytest
from azure.functions import meta

from devhost.errors import WorkerCrashed
from devhost.loader import scan_specs
from devhost.worker import FunctionError, RemoteInvocation, WorkerProcess

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def activity_input(text: str) -> dict[str, meta.Datum]:
    return {"value": meta.Datum(type="string", value=text)}


def run(fixture_apps, scenario):
    """Start a worker on the fixture app, run scenario(worker, invocations), stop the worker."""
    root = fixture_apps / "worker_app"

    async def main():
        worker = WorkerProcess(str(root))
        hello = await worker.start()
        specs, _ = scan_specs(root)
        invocations = {s.name: RemoteInvocation(worker, s) for s in specs}
        try:
            return hello, await scenario(worker, invocations)
        finally:
            await worker.stop()

    return asyncio.run(main())


def test_the_worker_says_what_it_loaded_and_runs_functions_through_the_converters(fixture_apps):
    async def scenario(worker, invocations):
        outputs = await invocations["Echo"].call(activity_input('{"a": [1, 2]}'))
        return outputs["value"]

    hello, returned = run(fixture_apps, scenario)

    assert hello.loaded == ["Die", "Echo", "Explode"] and hello.skipped == []
    assert returned.type == "json" and returned.value == '{"a": [1, 2]}'  # ActivityTriggerConverter.encode


def test_a_user_exception_comes_back_with_its_type_and_traceback(fixture_apps):
    async def scenario(worker, invocations):
        with pytest.raises(FunctionError) as failure:
            await invocations["Explode"].call(activity_input('"x"'))
        return failure.value

    _, error = run(fixture_apps, scenario)

    assert error.type_name == "ValueError"
    assert str(error) == "cannot handle 'x'"
    assert "raise ValueError" in error.traceback_text


def test_calls_run_concurrently(fixture_apps):
    async def scenario(worker, invocations):
        calls = [invocations["Echo"].call(activity_input(str(i))) for i in range(50)]
        return [o["value"].value for o in await asyncio.gather(*calls)]

    _, values = run(fixture_apps, scenario)

    assert values == [str(i) for i in range(50)]


def test_a_dying_worker_fails_its_calls_as_crashed_and_a_new_one_takes_over(fixture_apps):
    async def scenario(worker, invocations):
        first_pid = worker.process.pid
        with pytest.raises(WorkerCrashed) as crash:
            await invocations["Die"].call(activity_input('"x"'))
        outputs = await invocations["Echo"].call(activity_input('"after"'))  # waits for the new worker
        return first_pid, worker.process.pid, str(crash.value), outputs["value"].value

    _, (first_pid, second_pid, message, value) = run(fixture_apps, scenario)

    assert "exited with code 7" in message
    assert second_pid != first_pid
    assert value == '"after"'

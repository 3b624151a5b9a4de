"""devhost.workers.process and devhost.workers.pool: a worker process imports the app and runs its functions for the host:
results and user failures come back over the socket pair; a worker that dies is replaced while its calls fail as
WorkerCrashed (retried by the dispatcher, never recorded as the function's failure); an invocation past
functionTimeout fails alone with the host's message, and times the function's run, not the transfer of a big input
or output; several processes share the calls."""
from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import socket
import time

import pytest
from azure.functions import meta

from devhost.app.loader import scan_specs
from devhost.errors import FunctionTimeoutException, WorkerCrashed
from devhost.testing import poll
from devhost.workers.pool import WorkerPool, backoff
from devhost.workers.process import FunctionError, RemoteInvocation, _Replies

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def activity_input(text: str) -> dict[str, meta.Datum]:
    return {"value": meta.Datum(type="string", value=text)}


def run(fixture_apps, scenario, count=1, function_timeout=None):
    """Start a pool of workers on the fixture app, run scenario(pool, invocations), stop the pool."""
    root = fixture_apps / "worker_app"

    async def main():
        pool = WorkerPool(str(root), count, function_timeout)
        hello = await pool.start()
        specs, _ = scan_specs(root)
        invocations = {s.name: RemoteInvocation(pool, s) for s in specs}
        try:
            return hello, await scenario(pool, invocations)
        finally:
            await pool.stop()

    return asyncio.run(main())


def test_the_worker_says_what_it_loaded_and_runs_functions_through_the_converters(fixture_apps):
    async def scenario(worker, invocations):
        outputs = await invocations["Echo"].call(activity_input('{"a": [1, 2]}'))
        return outputs["value"]

    hello, returned = run(fixture_apps, scenario)

    assert hello.loaded == ["Die", "Echo", "Expand", "Explode", "Rendezvous", "Sleep"] and hello.skipped == []
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
    """Rendezvous answers only once all 20 calls are inside it together; run one after another, they fail."""
    async def scenario(worker, invocations):
        calls = [invocations["Rendezvous"].call({"parties": meta.Datum(type="string", value="20")})
                 for _ in range(20)]
        return [o["parties"].value for o in await asyncio.gather(*calls)]

    _, values = run(fixture_apps, scenario)

    assert values == ["20"] * 20


def test_concurrent_calls_each_get_their_own_result(fixture_apps):
    async def scenario(worker, invocations):
        calls = [invocations["Echo"].call(activity_input(str(i))) for i in range(50)]
        return [o["value"].value for o in await asyncio.gather(*calls)]

    _, values = run(fixture_apps, scenario)

    assert values == [str(i) for i in range(50)]


def test_a_dying_worker_fails_its_calls_as_crashed_and_a_new_one_takes_over(fixture_apps):
    async def scenario(pool, invocations):
        first_pid = pool.pids[0]
        with pytest.raises(WorkerCrashed) as crash:
            await invocations["Die"].call(activity_input('"x"'))
        outputs = await invocations["Echo"].call(activity_input('"after"'))  # waits for the new worker
        return first_pid, pool.pids[0], str(crash.value), outputs["value"].value

    _, (first_pid, second_pid, message, value) = run(fixture_apps, scenario)

    assert "exited with code 7" in message
    assert second_pid != first_pid
    assert value == '"after"'


def test_an_invocation_past_the_timeout_fails_alone_and_its_worker_is_replaced(fixture_apps):
    async def scenario(pool, invocations):
        first_pid = pool.pids[0]
        slow = asyncio.ensure_future(invocations["Sleep"].call(activity_input("60")))
        await asyncio.sleep(0.3)  # lets the slow call reach the worker first, so it is the one that times out
        other = asyncio.ensure_future(invocations["Sleep"].call(activity_input("60")))
        results = await asyncio.gather(slow, other, return_exceptions=True)
        after = await invocations["Sleep"].call(activity_input("0"))
        return first_pid, results, after["value"].value

    _, (first_pid, (slow, other), after_pid) = run(fixture_apps, scenario, function_timeout=1.0)

    assert isinstance(slow, FunctionTimeoutException)
    assert str(slow) == "Timeout value of 00:00:01 was exceeded by function: Functions.Sleep"
    assert isinstance(other, WorkerCrashed)  # not failed: the dispatcher runs it again
    assert int(after_pid) != first_pid


def test_the_timeout_does_not_count_the_time_a_big_input_takes_to_reach_the_worker(fixture_apps):
    """A worker that reads a big input late (stopped here, as a loaded machine stalls it) for longer than
    functionTimeout still runs the function, in the same process: the timeout runs from the "started" report."""
    big = json.dumps("x" * (8 << 20))

    async def scenario(pool, invocations):
        pid = pool.pids[0]
        os.kill(pid, signal.SIGSTOP)
        try:
            call = asyncio.ensure_future(invocations["Echo"].call(activity_input(big)))
            await asyncio.sleep(2.5)  # not a wait for anything: the stall itself, 2.5 times functionTimeout
        finally:
            os.kill(pid, signal.SIGCONT)
        outputs = await call
        return pid, pool.pids[0], outputs["value"].value

    _, (before, after, echoed) = run(fixture_apps, scenario, function_timeout=1.0)

    assert echoed == big and after == before


def test_the_timeout_does_not_count_the_time_a_big_output_takes_to_reach_the_host(fixture_apps):
    """The host reads a big output late (its event loop stalled past functionTimeout once the worker has started
    writing it): the worker's "ran" report, ahead of the output, stopped the timer."""
    size = 8 << 20

    async def scenario(pool, invocations):
        pipe = pool.workers[0].pipe.transport.get_extra_info("socket")
        sent = time.monotonic()
        call = asyncio.ensure_future(invocations["Expand"].call(activity_input(str(size))))
        await asyncio.sleep(0)  # the call is sent: its timer runs from here (a small input crosses at once)
        poll(lambda: select.select([pipe.fileno()], [], [], 0)[0], timeout=30, what="the worker to answer")
        time.sleep(max(0.0, sent + 2.5 - time.monotonic()))  # the stall of the host's loop, past functionTimeout
        return len((await call)["value"].value)

    _, length = run(fixture_apps, scenario, function_timeout=1.0)

    assert length == size + 2  # a JSON string


def test_two_worker_processes_share_the_calls(fixture_apps):
    async def scenario(pool, invocations):
        while len(pool.pids) < 2:  # the second process may still be importing the app
            await asyncio.sleep(0.01)
        outputs = await asyncio.gather(*(invocations["Sleep"].call(activity_input("0.2")) for _ in range(4)))
        return set(pool.pids), {int(o["value"].value) for o in outputs}

    _, (pids, used) = run(fixture_apps, scenario, count=2)

    assert len(pids) == 2 and used == pids


def test_start_up_deaths_back_off_up_to_a_cap():
    assert [backoff(n) for n in range(0, 8)] == [0.0, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]


class _Unpicklable:
    def __reduce__(self):
        raise RecursionError("maximum recursion depth exceeded while pickling an object")


def test_outputs_that_cannot_be_sent_fail_the_call_not_the_worker():
    """Whatever serializing a function's outputs raises comes back as that call's error; the pipe stays usable."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        worker, host = _Replies(ours), _Replies(theirs)
        worker.reply(7, {"$return": _Unpicklable()})
        worker.reply(8, {"$return": "fine"})
        failed, sent = host.receive(), host.receive()
    assert failed[:4] == ("error", 7, "RecursionError", "maximum recursion depth exceeded while pickling an object")
    assert sent == ("result", 8, {"$return": "fine"})

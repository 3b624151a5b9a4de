"""The host's pool of worker processes (FUNCTIONS_WORKER_PROCESS_COUNT): spreads invocations over them, enforces
host.json's functionTimeout, and replaces every process that dies for as long as the host runs, backing off while
replacements keep dying at start-up or passing their start deadline."""
from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import Callable

from azure.functions import meta

from devhost.app.config import DEFAULT_WORKER_START_TIMEOUT, WORKER_START_TIMEOUT_SETTING, format_timespan
from devhost.errors import FunctionTimeoutException, WorkerCrashed, WorkerStartTimeout, WorkerUnavailable
from devhost.workers.process import WorkerHello, WorkerProcess, WorkerStartFailed, WorkerStartHung

log = logging.getLogger("devhost")
# A process that dies this soon after its hello died at start-up too (e.g. killed while it was coming up).
STARTUP_GRACE = 1.0
BACKOFF_FIRST = 0.2
BACKOFF_MAX = 5.0


def backoff(failures: int) -> float:
    """Seconds to wait before the next start after `failures` start-ups in a row that died: 0.2, 0.4 ... 5."""
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (failures - 1)) if failures > 0 else 0.0


class WorkerPool:
    """call(name, inputs) runs a function in one of `count` worker processes, each watched by its own
    supervising task."""

    def __init__(self, script_root: str, count: int = 1, function_timeout: float | None = None,
                 start_timeout: float = DEFAULT_WORKER_START_TIMEOUT) -> None:
        self.script_root = script_root
        self.count = count
        self.function_timeout = function_timeout
        self.start_timeout = start_timeout  # seconds a process may take to import the app and say hello
        self.workers: list[WorkerProcess | None] = [None] * count  # the ones up, taking calls
        self.latest: list[WorkerProcess | None] = [None] * count  # each slot's newest process, up or starting
        self.start_failures = [0] * count
        self.hello: WorkerHello | None = None
        self.stopping = False
        self.tasks: list[asyncio.Task[None]] = []
        self._ready = asyncio.Event()  # set while at least one worker takes calls
        self._first: asyncio.Future[WorkerHello | None] | None = None
        self._settled: set[int] = set()
        self._turn = itertools.count()

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> WorkerHello | None:
        """Start supervising every slot and wait for each one's first start: a worker's hello, or None if every
        first start died (the pool keeps trying in the background). WorkerStartTimeout if a first start passed its
        deadline: an import that hangs will hang again, so the host stops and names the file."""
        loop = asyncio.get_running_loop()
        self._first = loop.create_future()
        self.tasks = [loop.create_task(self._supervise(i)) for i in range(self.count)]
        return await self._first

    async def stop(self) -> None:
        """Stop supervising; workers still starting are killed (their tasks are cancelled), the others let go."""
        self.stopping = True
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(w.stop() for w in self.latest if w is not None), return_exceptions=True)

    def wind_down(self) -> None:
        """The host is stopping: a call that would wait for a worker to start gives up instead (an HTTP request
        answers 500 at once, rather than hold the shutdown up until a start deadline); workers that are up keep
        answering, and none is replaced any more."""
        self.stopping = True

    def summary(self) -> str:
        """One line for the banner: how many processes, and the timeout they run under."""
        timeout = "none (-1)" if self.function_timeout is None else format_timespan(self.function_timeout)
        return f"{self.count} worker process{'es' if self.count != 1 else ''}, functionTimeout {timeout}"

    def in_flight(self) -> bool:
        """Some worker is running a call of ours: its answer is on the way."""
        return any(w is not None and w.pending for w in self.workers)

    @property
    def pids(self) -> list[int]:
        return [w.pid for w in self.workers if w is not None and w.pid is not None]

    def _settle_first(self, index: int) -> None:
        """Slot `index` had an outcome; once every slot's first start has had one, start() returns."""
        if index in self._settled:
            return
        self._settled.add(index)
        if self._first is not None and not self._first.done() and len(self._settled) == self.count:
            self._first.set_result(self.hello)

    async def _supervise(self, index: int) -> None:
        """Keep slot `index` running a worker: start one, wait for it to die, fail its calls as crashed (they are
        retried), start the next; back off while start-ups keep dying or hanging (each is killed at its
        deadline)."""
        while not self.stopping:
            worker = self.latest[index] = WorkerProcess(self.script_root, index)
            began = time.monotonic()
            try:
                self.hello = await worker.start(self.start_timeout)
            except WorkerStartHung as exc:
                if index not in self._settled:  # the first start: the host cannot serve the app
                    self._settled.add(index)
                    if self._first is not None and not self._first.done():
                        self._first.set_exception(WorkerStartTimeout(
                            f"{exc} --worker-start-timeout SECONDS (or {WORKER_START_TIMEOUT_SETTING}) sets this "
                            "deadline."))
                    return
                self._start_failed(index, str(exc))
                await asyncio.sleep(backoff(self.start_failures[index]))
                continue
            except WorkerStartFailed as exc:
                self._start_failed(index, str(exc))
                self._settle_first(index)
                await asyncio.sleep(backoff(self.start_failures[index]))
                continue
            up = time.monotonic()
            if self.start_failures[index]:
                log.warning("devhost: worker process %d started (pid %s) after %d failed starts", index,
                            worker.pid, self.start_failures[index])
            self.start_failures[index] = 0
            self._settle_first(index)
            self.workers[index] = worker
            self._update_ready()
            code = await worker.closed()
            self.workers[index] = None
            self._update_ready()
            if self.stopping:
                return
            failed = worker.fail_pending(WorkerCrashed(f"The worker process exited with code {code}."))
            log.error("devhost: the worker process exited (code %s); failing its %d calls and starting a new one",
                      code, failed)
            if time.monotonic() - up < STARTUP_GRACE:
                self._start_failed(index, f"the worker process exited with code {code} "
                                          f"{time.monotonic() - began:.1f}s after it was started")
                await asyncio.sleep(backoff(self.start_failures[index]))

    def _start_failed(self, index: int, reason: str) -> None:
        self.start_failures[index] += 1
        failures = self.start_failures[index]
        log.error("devhost: %s (worker process %d, %d start%s in a row failed); starting another in %.1fs. Until one "
                  "starts, HTTP functions answer 500 and orchestrations, activities and entities wait in the store.",
                  reason, index, failures, "" if failures == 1 else "s", backoff(failures))

    def _update_ready(self) -> None:
        """_ready is set exactly while some worker takes calls (up, and not being killed)."""
        if any(w is not None and not w.killed for w in self.workers):
            self._ready.set()
        else:
            self._ready.clear()

    @property
    def unavailable(self) -> bool:
        """No worker is up and every slot's last start died or passed its deadline."""
        return not self._ready.is_set() and all(self.start_failures)

    # -- calls ------------------------------------------------------------------------------
    async def _pick(self, wait: bool) -> WorkerProcess:
        """The next worker in turn, as the host's load balancer takes them; waits for one while none is up,
        unless `wait` is False and start-ups keep failing (a start in progress is waited for, at most until its
        deadline) or the pool is stopping."""
        while True:
            up = [w for w in self.workers if w is not None and not w.killed]
            if up:
                return up[next(self._turn) % len(up)]
            if not wait and self.stopping:
                raise WorkerUnavailable("No worker process is running: devhost is stopping.")
            if not wait and self.unavailable:
                raise WorkerUnavailable("No worker process is running: each one died or hung while starting (see "
                                        "the log); devhost keeps starting new ones.")
            if wait:
                await self._ready.wait()
                continue
            try:  # a worker is being replaced: wait for it, but look again in case its start dies
                await asyncio.wait_for(self._ready.wait(), 0.5)
            except asyncio.TimeoutError:
                pass

    async def call(self, name: str, inputs: dict[str, meta.Datum], wait: bool = True) -> dict[str, meta.Datum]:
        """Run function `name` in a worker; FunctionError for the user's exception, FunctionTimeoutException past
        functionTimeout, WorkerCrashed when its worker died under it (run it again)."""
        worker = await self._pick(wait)
        if self.function_timeout is None:
            return await worker.call(name, inputs)[1]
        timer = _RunTimer(self.function_timeout, lambda: self._expire(worker, call_id, name))
        call_id, future = worker.call(name, inputs, timer.start, timer.stop)
        try:
            return await future
        finally:
            timer.stop()

    def _expire(self, worker: WorkerProcess, call_id: int, name: str) -> None:
        """functionTimeout passed: fail that invocation with the host's message and replace its worker process; the
        other invocations it was running fail as WorkerCrashed, so they run again."""
        future = worker.pending.pop(call_id, None)
        if future is None or future.done() or worker.killed:
            return
        timeout = format_timespan(self.function_timeout or 0)
        log.error("Timeout value of %s exceeded by function 'Functions.%s'. Initiating cancellation.", timeout, name)
        future.set_exception(FunctionTimeoutException(
            f"Timeout value of {timeout} was exceeded by function: Functions.{name}"))
        # The others die with the process: fail them now, as crashed (to run again), before their own timers can.
        others = worker.fail_pending(WorkerCrashed("Its worker process was replaced after another function's "
                                                   "timeout."))
        log.error("A function timeout has occurred. Restarting worker process %d (pid %s) executing "
                  "'Functions.%s'; its %d other invocations run again.", worker.index, worker.pid, name, others)
        worker.kill()
        self._update_ready()



class _RunTimer:
    """functionTimeout of one call: armed when its function starts running in the worker (not when its input is
    sent: a big input takes a while to cross, and that is not the function's time), disarmed once it has run."""

    def __init__(self, seconds: float, expire: Callable[[], None]) -> None:
        self.seconds = seconds
        self.expire = expire
        self.handle: asyncio.TimerHandle | None = None
        self.stopped = False

    def start(self) -> None:
        if not self.stopped and self.handle is None:
            self.handle = asyncio.get_running_loop().call_later(self.seconds, self.expire)

    def stop(self) -> None:
        self.stopped = True
        if self.handle is not None:
            self.handle.cancel()

"""The language worker: a separate process that imports the app and runs its functions, as the Python worker does
for the Functions host. The host talks to it over a socket pair in length-prefixed pickled frames; a crash of user
code (even os._exit) takes down only the worker, which the pool (pool.py) replaces."""
from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import pickle
import socket
import struct
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable

from azure.functions import meta

from devhost.app.bindings import Invocation, memoize_sdk
from devhost.app.loader import LoadedFunction
from devhost.errors import FunctionTimeoutException, WorkerCrashed
from devhost.malloc import map_big_blocks
from devhost.model import FunctionSpec
from devhost.tracebacks import exception_text, worker_stack_trace

log = logging.getLogger("devhost")
_HEADER = struct.Struct("!I")
# A frame bigger than this takes a measurable time to copy through the pipe (seconds for tens of megabytes on a busy
# machine). For such a call the worker reports ("started", id) once it has read it, and before such a reply it
# reports ("ran", id): functionTimeout then times the function's run, not the transfer of its input or output.
# Smaller frames cross in microseconds and carry no report, so the common call costs no extra frame.
BIG_FRAME = 1 << 20


class FunctionError(Exception):
    """User code raised in the worker: carries the original exception's type name, its frames as the Python worker
    reports them (`traceback_text`) and the whole traceback with its causes (`chain_text`: the user's line of an
    exception the SDK raises `from` the user's is there alone)."""

    def __init__(self, type_name: str, message: str, traceback_text: str = "", chain_text: str = "") -> None:
        super().__init__(message)
        self.type_name = type_name
        self.traceback_text = traceback_text
        self.chain_text = chain_text


# -- host side ----------------------------------------------------------------------------------
class _HostEnd(asyncio.Protocol):
    """The host's half of the pipe. Frames are unpickled as they arrive and handed to `on_frame` (no reader task
    between the socket and the caller's future). A frame is written at once when it is the first of its turn of the
    event loop; the frames that follow it in the same turn go out together in one write at the end of the turn (one
    system call for the many activities a fan-out hands on at once, not one each)."""

    def __init__(self, on_frame: Callable[[Any], None]) -> None:
        self.on_frame = on_frame
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.unsent: list[bytes] | None = None  # None: nothing written yet in this turn
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        start, size_of = 0, len(buffer)
        try:
            while size_of - start >= _HEADER.size:
                end = start + _HEADER.size + _HEADER.unpack_from(buffer, start)[0]
                if end > size_of:
                    break
                frame = pickle.loads(buffer[start + _HEADER.size:end])
                start = end
                self.on_frame(frame)
        except (pickle.UnpicklingError, EOFError, ValueError, AttributeError, ImportError):  # not our worker
            log.error("devhost: a worker process sent a frame that cannot be read; its pipe is closed")
            self.close()
        del buffer[:start]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)

    def send(self, obj: Any) -> int:
        """Queue one frame; the size of its pickle (what BIG_FRAME is compared with on both sides)."""
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        frame = _HEADER.pack(len(data)) + data
        if self.transport is None or self.transport.is_closing():
            return len(data)
        if self.unsent is None:
            self.transport.write(frame)
            self.unsent = []
            asyncio.get_running_loop().call_soon(self._flush)
        else:
            self.unsent.append(frame)
        return len(data)

    def _flush(self) -> None:
        frames, self.unsent = self.unsent, None
        if frames and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(frames))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


@dataclass(frozen=True)
class WorkerHello:
    loaded: list[str]
    skipped: list[tuple[str, str]]
    specs: list[FunctionSpec]  # of the loaded functions: the host learns a v2 app's functions only from the worker


class WorkerStartFailed(Exception):
    """The worker process died (or could not be spawned) before it said hello."""


class WorkerStartHung(WorkerStartFailed):
    """The worker process did not say hello within its start deadline (an import that waits forever, a stopped
    process); it has been killed."""


class WorkerProcess:
    """One life of one worker process: start() until its hello, call() sends an invocation and returns its future,
    closed() waits for the pipe to end. Replacing a dead one is the pool's job (pool.py)."""

    def __init__(self, script_root: str, index: int = 0) -> None:
        self.script_root = script_root
        self.index = index
        self.pending: dict[int, asyncio.Future[Any]] = {}
        # per call waiting on a report (a big frame's): what to do when it starts running, and when it has run
        self.reports: dict[int, tuple[Callable[[], None], Callable[[], None]]] = {}
        self.next_id = 0
        self.process: asyncio.subprocess.Process | None = None
        self.pipe: _HostEnd | None = None
        self.hello: WorkerHello | None = None
        self.importing: tuple[str | None, str] | None = None  # what the worker said it imports next, until hello
        self.killed = False  # kill() was called: take no more calls, even before the pipe is seen to end

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    async def start(self, timeout: float | None = None) -> WorkerHello:
        """Spawn the process and wait for its hello; WorkerStartFailed if it dies first, WorkerStartHung (after
        killing it) if `timeout` seconds pass first. Cancelled, it kills the process: a worker that has not said
        hello holds no work."""
        ours, theirs = socket.socketpair()
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "devhost.workers.process", str(theirs.fileno()), self.script_root,
                pass_fds=(theirs.fileno(),))
        except OSError as exc:
            ours.close()
            raise WorkerStartFailed(f"cannot start a worker process: {exc}") from exc
        finally:
            theirs.close()
        loop = asyncio.get_running_loop()
        first: asyncio.Future[Any] = loop.create_future()
        self.pipe = _HostEnd(lambda frame: self._on_frame(frame, first))
        try:
            await loop.create_connection(lambda: self.pipe, sock=ours)  # type: ignore[arg-type,return-value]
        except OSError as exc:
            ours.close()
            raise WorkerStartFailed(f"cannot talk to the worker process: {exc}") from exc
        try:
            done, _ = await asyncio.wait((first, self.pipe.lost), timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            self.kill()
            raise
        if not done:
            reason = self._hang_reason(timeout or 0.0)
            self.kill()  # SIGKILL ends a stopped (SIGSTOP) process too
            self.pipe.close()
            await self.process.wait()
            raise WorkerStartHung(reason)
        if not first.done():
            code = await self._exit_code()
            raise WorkerStartFailed(f"the worker process exited with code {code} while starting")
        kind, specs, skipped = first.result()
        assert kind == "hello", kind
        self.hello = WorkerHello(sorted(s.name for s in specs), skipped, specs)
        return self.hello

    def _hang_reason(self, timeout: float) -> str:
        """What a worker past its start deadline was doing, as far as it told: the file it was importing."""
        waited = f"the worker process did not finish starting within {timeout:g} s"
        if self.importing is None:
            return f"{waited}: it had not begun to import the app's functions (is the machine very busy?)"
        name, path = self.importing
        what = f"function '{name}' from {path}" if name is not None else f"the app's script {path}"
        return (f"{waited}: it was still importing {what}. Does that module wait for something at import (a network "
                f"call, a lock, input)?")

    async def _exit_code(self) -> int | None:
        """The exit code of a worker whose pipe ended: let it exit on its own first, killing it only if it lingers.
        Killing at once races the child watcher: Popen.send_signal polls, and a poll that reaps a process the
        watcher is about to reap leaves asyncio with no exit code (it then reports 255)."""
        assert self.process is not None
        try:
            return await asyncio.wait_for(asyncio.shield(self.process.wait()), 1.0)
        except asyncio.TimeoutError:
            self.kill()
            return await self.process.wait()

    def _on_frame(self, frame: tuple[Any, ...], first: asyncio.Future[Any]) -> None:
        """Until the hello, what the worker is about to import; then the replies: each settles the future of its
        call, and a big call's reports (BIG_FRAME) come before its reply."""
        if not first.done():
            if frame[0] == "importing":
                self.importing = (frame[1], frame[2])
            else:
                first.set_result(frame)
            return
        if frame[0] in ("started", "ran"):
            report = self.reports.get(frame[1])
            if report is not None:
                report[frame[0] == "ran"]()
            return
        self.reports.pop(frame[1], None)
        future = self.pending.pop(frame[1], None)
        if future is None or future.done():
            return
        if frame[0] == "result":
            future.set_result(frame[2])
        else:
            future.set_exception(FunctionError(*frame[2:]))

    async def closed(self) -> int | None:
        """Wait until the worker's pipe ends; its exit code."""
        if self.pipe is not None:
            await asyncio.shield(self.pipe.lost)
            self.pipe.close()
        return await self.process.wait() if self.process else None

    def call(self, name: str, inputs: dict[str, meta.Datum], started: Callable[[], None] | None = None,
             ran: Callable[[], None] | None = None) -> tuple[int, asyncio.Future[Any]]:
        """Send one invocation; its id and the future of its outputs (or FunctionError). `started` is called when
        the function starts running in the worker (at once when its input crosses in no time), `ran` when it has
        run, before a big output crosses back; the pool times functionTimeout between the two."""
        call_id = self.next_id
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[call_id] = future
        assert self.pipe is not None
        if started is not None and ran is not None:
            self.reports[call_id] = (started, ran)
        if self.pipe.send(("call", call_id, name, inputs)) <= BIG_FRAME and started is not None:
            started()
        return call_id, future

    def fail_pending(self, error: Exception) -> int:
        """Fail every call still waiting on this worker (it died); how many there were."""
        futures = [f for f in self.pending.values() if not f.done()]
        for future in futures:
            future.set_exception(error)
        self.pending.clear()
        self.reports.clear()
        return len(futures)

    def kill(self) -> None:
        self.killed = True
        if self.process is not None and self.process.returncode is None:
            try:
                self.process.kill()
            except ProcessLookupError:
                pass

    async def stop(self) -> None:
        """Close the pipe (the worker exits when it ends) and wait a little; kill it if it does not go. One that
        has not said hello is killed at once: it holds no work, and may never read its pipe."""
        if self.pipe is not None:
            self.pipe.close()
        if self.hello is None:
            self.kill()
        if self.process is not None and self.process.returncode is None:
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except asyncio.TimeoutError:
                self.kill()
                await self.process.wait()


class RemoteInvocation:
    """Invocation's interface (fn, call), carried out by a worker process of the pool."""

    def __init__(self, pool: Any, spec: FunctionSpec) -> None:
        self.pool = pool
        self.fn = LoadedFunction(spec, main=_not_here)
        # The host has no retry for an HTTP request: it answers at once when no worker can start.
        self.wait = spec.kind != "http"

    async def call(self, inputs: dict[str, meta.Datum]) -> dict[str, meta.Datum]:
        try:
            return await self.pool.call(self.fn.spec.name, inputs, wait=self.wait)
        except FunctionTimeoutException as exc:
            if self.fn.spec.kind == "orchestration":  # the extension aborts the episode and runs it again
                raise WorkerCrashed(str(exc)) from exc
            raise


def _not_here(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("this function runs in the worker process")


# -- worker side --------------------------------------------------------------------------------
class _Replies:
    """The worker's half of the pipe: one thread at a time reads invocations (blocking), and whichever thread
    finished one writes its reply at once, under a lock. A `def` function's reply leaves from the pool thread that
    ran it, with no hop back through the event loop (which runs only `async def` functions)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()
        self.incoming = sock.makefile("rb")

    def send(self, frame: tuple[Any, ...]) -> None:
        self._send(pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL))

    def _send(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(_HEADER.pack(len(data)) + data)

    def receive(self) -> Any:
        """The next frame; EOFError once the host closed its end. A call that came in a big frame (BIG_FRAME) is
        marked `big` at its end: its run is reported to the host."""
        header = self.incoming.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise EOFError
        size = _HEADER.unpack(header)[0]
        data = self.incoming.read(size)
        if len(data) < size:
            raise EOFError
        frame = pickle.loads(data)
        return (*frame, "big") if size > BIG_FRAME else frame

    def started(self, frame: tuple[Any, ...]) -> None:
        """Tell the host that a big call's function starts running now (its timeout runs from here)."""
        if frame[-1] == "big":
            self.send(("started", frame[1]))

    def reply(self, call_id: int, outputs: Any = None, exc: BaseException | None = None) -> None:
        """The outputs of call `call_id`, or the exception it raised (also when its outputs cannot be sent: any
        failure to serialize them fails the call, never the worker)."""
        if exc is None:
            try:
                data = pickle.dumps(("result", call_id, outputs), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as unsendable:  # e.g. PicklingError, or RecursionError for deeply nested values
                exc = unsendable
            else:
                if len(data) > BIG_FRAME:  # its run is over: the host stops timing before the output crosses
                    self.send(("ran", call_id))
                self._send(data)
                return
        self.send(("error", call_id, type(exc).__name__, str(exc), worker_stack_trace(exc), exception_text(exc)))


def _pool_size() -> int:
    """PYTHON_THREADPOOL_THREAD_COUNT, or ThreadPoolExecutor's own default as the Python worker leaves it."""
    from devhost.app.config import threadpool_size
    return threadpool_size() or min(32, (os.cpu_count() or 1) + 4)


class _Intake:
    """Who reads the next invocation from the pipe. The pool's idle threads take turns, and the thread that read a
    `def` function's invocation runs it itself: no hand-over between threads. While every pool thread is busy a
    courier thread reads instead, so an `async def` function never waits for the pool (as in the Python worker,
    whose event loop reads the host's stream); a `def` function it reads waits in the backlog for the first pool
    thread that comes free."""

    def __init__(self, pipe: _Replies, is_sync: Callable[[tuple[Any, ...]], bool]) -> None:
        self.pipe = pipe
        self.is_sync = is_sync
        self.turn = threading.Lock()  # held by whoever reads the pipe
        self.state = threading.Condition()  # guards idle and backlog; the courier waits on it
        self.idle = 0  # pool threads between two invocations
        self.backlog: collections.deque[tuple[Any, ...]] = collections.deque()

    def next_for_pool(self) -> tuple[Any, ...]:
        """A pool thread's next invocation: one the courier read while all were busy, else the pipe's next.
        EOFError once the host closed the pipe."""
        with self.state:
            if self.backlog:
                return self.backlog.popleft()
            self.idle += 1
        try:
            with self.turn:
                with self.state:
                    if self.backlog:
                        return self.backlog.popleft()
                return self.pipe.receive()
        finally:
            with self.state:
                self.idle -= 1
                if self.idle == 0:
                    self.state.notify()  # every pool thread is busy now: the courier reads

    def next_for_courier(self) -> tuple[Any, ...]:
        """The next invocation that needs no pool thread (an `async def` one, or one of an unknown function),
        read while every pool thread is busy; the `def` ones read meanwhile go to the backlog."""
        while True:
            with self.state:
                self.state.wait_for(lambda: self.idle == 0)
            with self.turn:
                with self.state:
                    if self.idle:
                        continue  # a pool thread came free meanwhile: it reads
                frame = self.pipe.receive()
                if not self.is_sync(frame):
                    return frame
                with self.state:  # before the turn passes on, so whoever reads next takes it first
                    self.backlog.append(frame)


async def _serve(fd: int, script_root: str) -> None:
    from devhost.app.config import load_config, python_log_level
    from devhost.app.discovery import load_functions

    memoize_sdk()
    map_big_blocks()
    pipe = _Replies(socket.socket(fileno=fd))
    # The host names the file whose import never returns when the start deadline passes.
    report = load_functions(script_root, lambda name, path: pipe.send(("importing", name, path)))
    logging.getLogger().setLevel(python_log_level(load_config(script_root).log_level))
    invocations = {name: Invocation(fn) for name, fn in report.functions.items()}
    pipe.send(("hello", [fn.spec for fn in report.functions.values()], report.skipped))
    loop = asyncio.get_running_loop()
    host_gone = asyncio.Event()

    def is_sync(frame: tuple[Any, ...]) -> bool:
        invocation = invocations.get(frame[2])
        return invocation is not None and not invocation.is_async

    intake = _Intake(pipe, is_sync)
    tasks: set[asyncio.Task[None]] = set()  # the running async def invocations (the loop keeps weak references)

    async def run_async(frame: tuple[Any, ...], invocation: Invocation) -> None:
        call_id, inputs = frame[1], frame[3]
        pipe.started(frame)
        try:
            outputs = await invocation.call(inputs)
        except Exception as exc:
            pipe.reply(call_id, exc=exc)
        else:
            pipe.reply(call_id, outputs)

    def start_async(frame: tuple[Any, ...], invocation: Invocation) -> None:
        tasks.add(task := loop.create_task(run_async(frame, invocation)))
        task.add_done_callback(tasks.discard)

    def run(frame: tuple[Any, ...]) -> None:
        """As the Python worker runs them: `def` functions of every trigger here, in a pool thread; `async def`
        ones on the event loop."""
        _, call_id, name, inputs = frame[:4]
        invocation = invocations.get(name)
        if invocation is None:
            pipe.started(frame)
            pipe.reply(call_id, exc=LookupError(f"The function '{name}' is not loaded in this worker process."))
        elif invocation.is_async:  # no concurrent Future: nobody here waits for it, the reply is sent by run_async
            loop.call_soon_threadsafe(start_async, frame, invocation)
        else:
            pipe.started(frame)
            try:
                outputs = invocation.call_sync(inputs)
            except Exception as exc:
                pipe.reply(call_id, exc=exc)
            else:
                pipe.reply(call_id, outputs)

    def serve(take: Callable[[], tuple[Any, ...]]) -> None:
        try:
            while True:
                run(take())
        except (EOFError, OSError, ValueError):
            pass  # the host is gone (ValueError: the pipe's file was closed under a reader): so are we
        finally:
            with contextlib.suppress(RuntimeError):  # the loop has ended already (Ctrl-C reached the worker too)
                loop.call_soon_threadsafe(host_gone.set)

    for i in range(_pool_size()):
        threading.Thread(target=serve, args=(intake.next_for_pool,), name=f"fn_{i}", daemon=True).start()
    threading.Thread(target=serve, args=(intake.next_for_courier,), name="courier", daemon=True).start()
    await host_gone.wait()


def _die_with_host() -> None:
    """On Linux, have the kernel kill this worker when the host process dies: one stuck in an import never reads its
    pipe, so would never see the host go."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL))


def main(argv: list[str]) -> None:
    _die_with_host()
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(message)s", stream=sys.stdout)
    try:
        asyncio.run(_serve(int(argv[0]), argv[1]))
    except KeyboardInterrupt:
        pass
    os._exit(0)  # don't wait for user threads still sleeping in activities


if __name__ == "__main__":
    main(sys.argv[1:])

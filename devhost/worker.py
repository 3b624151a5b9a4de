"""The language worker: a separate process that imports the app and runs its functions, as the Python worker does
for the Functions host. The host talks to it over a socket pair in length-prefixed pickled frames; a crash of user
code (even os._exit) takes down only the worker, which the host restarts."""
from __future__ import annotations

import asyncio
import logging
import os
import pickle
import socket
import struct
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from azure.functions import meta

from .bindings import Invocation, memoize_sdk_timestamp_parsing
from .errors import WorkerCrashed
from .loader import LoadedFunction
from .model import INLINE_KINDS, FunctionSpec

log = logging.getLogger("devhost")
_HEADER = struct.Struct("!I")


class FunctionError(Exception):
    """User code raised in the worker: carries the original exception's type name and traceback text."""

    def __init__(self, type_name: str, message: str, traceback_text: str = "") -> None:
        super().__init__(message)
        self.type_name = type_name
        self.traceback_text = traceback_text


async def _read(reader: asyncio.StreamReader) -> Any:
    size = _HEADER.unpack(await reader.readexactly(_HEADER.size))[0]
    return pickle.loads(await reader.readexactly(size))


def _write(writer: asyncio.StreamWriter, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    writer.write(_HEADER.pack(len(data)) + data)


# -- host side ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkerHello:
    loaded: list[str]
    skipped: list[tuple[str, str]]


class WorkerProcess:
    """The host's handle on the worker process: call(name, inputs) -> outputs, or FunctionError."""

    def __init__(self, script_root: str) -> None:
        self.script_root = script_root
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.next_id = 0
        self.process: asyncio.subprocess.Process | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reader_task: asyncio.Task[None] | None = None
        self.stopping = False
        self.hello: WorkerHello | None = None
        self.ready = asyncio.Event()  # cleared while a crashed worker is being replaced

    async def start(self) -> WorkerHello:
        ours, theirs = socket.socketpair()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "devhost.worker", str(theirs.fileno()), self.script_root, pass_fds=(theirs.fileno(),))
        theirs.close()
        reader, self.writer = await asyncio.open_connection(sock=ours)
        kind, loaded, skipped = await _read(reader)
        assert kind == "hello", kind
        self.hello = WorkerHello(loaded, skipped)
        self.reader_task = asyncio.get_running_loop().create_task(self._read_loop(reader))
        self.ready.set()
        return self.hello

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                frame = await _read(reader)
                future = self.pending.pop(frame[1], None)
                if future is None or future.done():
                    continue
                if frame[0] == "result":
                    future.set_result(frame[2])
                else:
                    future.set_exception(FunctionError(frame[2], frame[3], frame[4]))
        except (asyncio.IncompleteReadError, ConnectionError, EOFError):
            pass
        self.ready.clear()
        if self.stopping:
            return
        code = await self.process.wait() if self.process else None
        log.error("devhost: the worker process exited (code %s); failing its %d calls and starting a new one",
                  code, len(self.pending))
        for future in self.pending.values():
            if not future.done():
                future.set_exception(WorkerCrashed(f"The worker process exited with code {code}."))
        self.pending.clear()
        await self.start()

    async def call(self, name: str, inputs: dict[str, meta.Datum]) -> dict[str, meta.Datum]:
        if not self.ready.is_set():
            await self.ready.wait()
        call_id = self.next_id
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[call_id] = future
        assert self.writer is not None
        _write(self.writer, ("call", call_id, name, inputs))
        return await future

    async def stop(self) -> None:
        self.stopping = True
        if self.writer is not None:
            self.writer.close()
        if self.process is not None and self.process.returncode is None:
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self.reader_task is not None:
            self.reader_task.cancel()


class RemoteInvocation:
    """Invocation's interface (fn, call), carried out by the worker process."""

    def __init__(self, worker: WorkerProcess, spec: FunctionSpec) -> None:
        self.worker = worker
        self.fn = LoadedFunction(spec, main=_not_here)

    async def call(self, inputs: dict[str, meta.Datum]) -> dict[str, meta.Datum]:
        return await self.worker.call(self.fn.spec.name, inputs)


def _not_here(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("this function runs in the worker process")


# -- worker side --------------------------------------------------------------------------------
async def _serve(fd: int, script_root: str) -> None:
    from .config import load_config, python_log_level
    from .loader import load_functions

    memoize_sdk_timestamp_parsing()
    report = load_functions(script_root)
    logging.getLogger().setLevel(python_log_level(load_config(script_root).log_level))
    executor = ThreadPoolExecutor(max_workers=min(32, (os.cpu_count() or 2) * 4 + 4), thread_name_prefix="fn")
    invocations = {name: Invocation(fn, executor, inline=fn.spec.kind in INLINE_KINDS)
                   for name, fn in report.functions.items()}
    reader, writer = await asyncio.open_connection(sock=socket.socket(fileno=fd))
    _write(writer, ("hello", sorted(invocations), report.skipped))

    async def run(call_id: int, name: str, inputs: dict[str, meta.Datum]) -> None:
        try:
            outputs = await invocations[name].call(inputs)
            _write(writer, ("result", call_id, outputs))
        except Exception as exc:
            _write(writer, ("error", call_id, type(exc).__name__, str(exc), traceback.format_exc()))

    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()
    while True:
        try:
            frame = await _read(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            return  # the host is gone: so are we
        task = loop.create_task(run(frame[1], frame[2], frame[3]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(message)s", stream=sys.stdout)
    try:
        asyncio.run(_serve(int(argv[0]), argv[1]))
    except KeyboardInterrupt:
        pass
    os._exit(0)  # don't wait for user threads still sleeping in activities


if __name__ == "__main__":
    main(sys.argv[1:])

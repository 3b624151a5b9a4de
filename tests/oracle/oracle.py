"""The oracle's two sides for one app: Azure's worker library in a process of its own (library_worker.py) and
devhost's worker process (devhost.workers.process), given the same inputs; answers in one shape (`wire`: the
TypedData one-of the library would send the host) so that tests compare them with ==."""
from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from azure.functions import meta

HERE = Path(__file__).resolve().parent
APPS = HERE / "apps"
LIBRARIES = ("azure_functions_runtime", "azure_functions_runtime_v1")
ANSWER_DEADLINE = 60.0  # seconds one library request may take before the test fails (a hang is a failure)


def why_not() -> str | None:
    """Why the oracle cannot run here, or None: the libraries are published for Python 3.13 and newer only."""
    if sys.version_info < (3, 13):
        return (f"the oracle needs Python 3.13+ (Azure's worker libraries azure-functions-runtime and "
                f"azure-functions-runtime-v1 are published for 3.13 on); this is {sys.version.split()[0]}")
    missing = [name for name in LIBRARIES if importlib.util.find_spec(name) is None]
    if missing:
        return (f"Azure's worker libraries are not installed ({', '.join(missing)}): "
                f"pip install -r tests/requirements.txt")
    return None


# -- one shape for both sides ---------------------------------------------------------------------------------------
def wire(datum: meta.Datum | None) -> dict[str, Any] | None:
    """A devhost Datum as the TypedData the Python worker sends for it (datum_as_proto in the libraries): dicts and
    lists as JSON text, bools as ints, an HTTP response as its status, headers, body and cookie names."""
    if datum is None or datum.type is None:
        return None
    kind, value = datum.type, datum.value
    if kind in ("string", "json", "int", "double"):
        return {kind: value}
    if kind == "bytes":
        return {"bytes": base64.b64encode(value).decode()}
    if kind in ("dict", "list"):
        return {"json": json.dumps(value)}
    if kind == "bool":
        return {"int": int(value)}
    if kind == "http":
        cookies = [name for cookie in value.get("cookies") or [] for name in cookie]
        return {"http": {"status_code": str(value["status_code"].value),
                         "headers": {k: v.value for k, v in value["headers"].items()},
                         "body": wire(value["body"]), "cookies": cookies}}
    raise AssertionError(f"devhost returned a Datum the worker cannot send: {kind}")


def datum(value: dict[str, Any] | None) -> meta.Datum | None:
    """A wire input as the Datum devhost's worker takes (what the host turned it into on the way in)."""
    if value is None:
        return None
    (kind, inner), = value.items()
    if kind == "bytes":
        return meta.Datum(type="bytes", value=base64.b64decode(inner))
    if kind == "http":
        s = lambda text: meta.Datum(type="string", value=text)  # noqa: E731
        return meta.Datum(type="http", value={
            "method": s(inner["method"]), "url": s(inner["url"]),
            "headers": {k: s(v) for k, v in inner["headers"].items()},
            "query": {k: s(v) for k, v in inner["query"].items()},
            "params": {k: s(v) for k, v in inner["params"].items()},
            "body": datum(inner["body"]) or meta.Datum(type="bytes", value=b"")})
    return meta.Datum(type=kind, value=inner)


def http_request(method: str = "GET", url: str = "http://localhost:7071/api/x", body: dict | None = None,
                 headers: dict | None = None, query: dict | None = None, params: dict | None = None) \
        -> dict[str, Any]:
    return {"http": {"method": method, "url": url, "headers": headers or {}, "query": query or {},
                     "params": params or {}, "body": body}}


# -- Azure's side ---------------------------------------------------------------------------------------------------
class Library:
    """azure-functions-runtime(-v1) serving one app in its own process (each library keeps its functions and the
    app's modules in globals, so one process per app)."""

    def __init__(self, model: str, app_dir: Path) -> None:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        self.log = tempfile.TemporaryFile("w+")  # the library's and the app's own output, shown if it dies
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "library_worker.py"), model, str(app_dir)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=env, cwd=str(app_dir))

    def ask(self, op: str, **fields: Any) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + ANSWER_DEADLINE
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the library gave no answer to {op} within {ANSWER_DEADLINE:g} s")
            ready, _, _ = select.select([self.process.stdout], [], [], left)
            if ready:
                line = self.process.stdout.readline()
                if not line:
                    self.log.seek(0)
                    raise AssertionError(f"the library process ended (code {self.process.wait()}) during {op}:\n"
                                         + self.log.read()[-3000:])
                return json.loads(line)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def folder_metadata(root: Path) -> list[dict[str, Any]]:
    """What the host reads from each <folder>/function.json and sends in FunctionLoadRequest (folder model):
    directions and data types as the protocol's enum numbers, scriptFile as an absolute path."""
    directions = {"in": 0, "out": 1, "inout": 2}
    data_types = {"": 0, "string": 1, "binary": 2, "stream": 3}
    functions = []
    for folder in sorted(p for p in root.iterdir() if (p / "function.json").is_file()):
        raw = json.loads((folder / "function.json").read_text())
        functions.append({
            "name": folder.name, "directory": str(folder),
            "script_file": str(folder / raw.get("scriptFile", "__init__.py")),
            "entry_point": raw.get("entryPoint", ""),
            "bindings": {b["name"]: {"type": b["type"], "direction": directions[b.get("direction", "in").lower()],
                                     "data_type": data_types[b.get("dataType", "").lower()]}
                         for b in raw["bindings"]}})
    return functions


# -- devhost's side -------------------------------------------------------------------------------------------------
class Devhost:
    """devhost's worker process on the same app, driven on an event loop of its own."""

    def __init__(self, app_dir: Path) -> None:
        from devhost.workers.process import WorkerProcess

        self.loop = asyncio.new_event_loop()
        self.worker = WorkerProcess(str(app_dir))
        self.hello = self.loop.run_until_complete(asyncio.wait_for(self.worker.start(), ANSWER_DEADLINE))

    def invoke(self, function: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """The worker's answer in the library's shape: `error` (the RpcException's message and stack), else the
        return value ($return or the trigger's implicit output) and the named outputs."""
        from devhost.app.bindings import returned
        from devhost.protocol.failures import FailureDetails
        from devhost.workers.process import FunctionError

        spec = next(s for s in self.worker.hello.specs if s.name == function)
        async def call() -> Any:
            _, future = self.worker.call(function, {name: datum(value) for name, value in inputs.items()})
            return await asyncio.wait_for(future, ANSWER_DEADLINE)

        try:
            outputs = self.loop.run_until_complete(call())
        except FunctionError as exc:
            failure = FailureDetails.of(exc)
            return {"error": {"message": failure.cause, "stack_trace": failure.stack_trace},
                    "return_value": None, "output_data": {}}
        from devhost.app.loader import LoadedFunction
        fn = LoadedFunction(spec, main=print)
        implicit = {"$return"} | ({spec.trigger.name} if spec.trigger else set())
        return {"error": None, "return_value": wire(returned(fn, outputs)),
                "output_data": {name: wire(d) for name, d in outputs.items()
                                if name not in implicit and wire(d) is not None}}

    def close(self) -> None:
        self.loop.run_until_complete(self.worker.stop())
        self.loop.close()


def user_frames(stack_trace: str, app_dir: Path) -> list[str]:
    """The lines of a stack trace that name the app's own files, and the line each shows: the part of a trace both
    workers share (their own frames differ: each has its own code between the host and the function)."""
    lines = stack_trace.splitlines()
    kept = []
    for i, line in enumerate(lines):
        if line.strip().startswith("File ") and str(app_dir) in line:
            kept.append(line.strip())
            if i + 1 < len(lines) and not lines[i + 1].strip().startswith("File "):
                kept.append(lines[i + 1].strip())
    return kept

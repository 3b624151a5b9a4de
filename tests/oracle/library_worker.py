"""Azure's Python worker logic (azure-functions-runtime for the v2 model, azure-functions-runtime-v1 for the folder
model) driven as the proxy worker drives it, in a process of its own for one app: the tests send one JSON request a
line on stdin (init, load, invoke) and read one JSON answer a line. Values cross as `wire` dicts, the TypedData
one-of as JSON ({"string": ...}, {"json": ...}, {"bytes": base64}, {"http": {...}}), so that the tests compare what
the library would send the host with what devhost's worker returns. Run: python library_worker.py v1|v2 APP_DIR."""
from __future__ import annotations

import asyncio
import base64
import importlib
import json
import os
import sys
from typing import Any

import messages as protos


def typed_data(wire: dict[str, Any] | None) -> protos.TypedData:
    """A wire value as the host's TypedData."""
    if wire is None:
        return protos.TypedData()
    (kind, value), = wire.items()
    if kind == "bytes":
        return protos.TypedData(bytes=base64.b64decode(value))
    if kind == "http":
        return protos.TypedData(http=protos.RpcHttp(
            method=value["method"], url=value["url"], headers=value["headers"], query=value["query"],
            params=value["params"], body=typed_data(value["body"])))
    return protos.TypedData(**{kind: value})


def wire(data: Any) -> dict[str, Any] | None:
    """A TypedData the library made, as a wire value."""
    kind = data.WhichOneof("data") if data is not None else None
    if kind is None:
        return None
    value = getattr(data, kind)
    if kind == "bytes":
        return {"bytes": base64.b64encode(value).decode()}
    if kind == "http":
        return {"http": {"status_code": str(value.status_code), "headers": dict(value.headers),
                         "body": wire(value.body), "cookies": [c.name for c in value.cookies or []]}}
    return {kind: value}


def exception(result: Any) -> dict[str, str] | None:
    if result.status == protos.StatusResult.Success:
        return None
    return {"message": result.exception.message, "stack_trace": result.exception.stack_trace}


class Driver:
    """One library, one app: the entry points called with the messages the host would send."""

    def __init__(self, model: str, app_dir: str) -> None:
        self.library = importlib.import_module("azure_functions_runtime" if model == "v2"
                                               else "azure_functions_runtime_v1")
        self.app_dir = app_dir
        self.ids: dict[str, str] = {}  # function name -> function id
        self.count = 0

    def request(self, **kind: Any) -> protos.Request:
        self.count += 1
        return protos.Request(protos.StreamingMessage(request_id=str(self.count), **kind), protos)

    async def init(self) -> dict[str, Any]:
        """WorkerInitRequest, then FunctionsMetadataRequest: the v2 library indexes the app in the first."""
        self.library.start_threadpool_executor()
        init = await self.library.worker_init_request(self.request(worker_init_request=protos.WorkerInitRequest(
            function_app_directory=self.app_dir, worker_directory=self.app_dir)))
        answer: dict[str, Any] = {"init_error": exception(init.result), "metadata": None}
        if answer["init_error"] is not None:
            return answer
        meta = await self.library.functions_metadata_request(self.request(
            functions_metadata_request=protos.FunctionsMetadataRequest(function_app_directory=self.app_dir)))
        if meta.function_metadata_results is not None:
            answer["metadata"] = [self.metadata(m) for m in meta.function_metadata_results]
        answer["use_default_metadata_indexing"] = meta.use_default_metadata_indexing
        return answer

    def metadata(self, m: Any) -> dict[str, Any]:
        self.ids[m.name] = m.function_id
        return {"name": m.name, "function_id": m.function_id, "directory": m.directory,
                "script_file": m.script_file, "entry_point": m.entry_point,
                "bindings": {name: {"type": b.type, "direction": int(b.direction), "data_type": int(b.data_type)}
                             for name, b in m.bindings.items()},
                "raw_bindings": [json.loads(raw) for raw in m.raw_bindings],
                "retry": None if m.retry_options is None else {
                    "max_retry_count": m.retry_options.max_retry_count,
                    "retry_strategy": m.retry_options.retry_strategy}}

    async def load(self, functions: list[dict[str, Any]]) -> dict[str, Any]:
        """FunctionLoadRequest per function, with the metadata the host read from function.json (folder model) or
        had from the worker (v2). Answers each function's load failure, or None."""
        failures: dict[str, Any] = {}
        for f in functions:
            function_id = self.ids.setdefault(f["name"], f"id-{f['name']}")
            bindings = {name: protos.BindingInfo(**b) for name, b in f["bindings"].items()}
            metadata = protos.RpcFunctionMetadata(
                name=f["name"], function_id=function_id, directory=f["directory"], script_file=f["script_file"],
                entry_point=f["entry_point"], bindings=bindings)
            load = await self.library.function_load_request(self.request(
                function_load_request=protos.FunctionLoadRequest(function_id=function_id, metadata=metadata)))
            failures[f["name"]] = exception(load.result)
        return {"failures": failures}

    async def invoke(self, function: str, inputs: dict[str, Any]) -> dict[str, Any]:
        self.count += 1
        answer = await self.library.invocation_request(self.request(invocation_request=protos.InvocationRequest(
            invocation_id=f"invocation-{self.count}", function_id=self.ids[function],
            input_data=[protos.ParameterBinding(name=name, data=typed_data(value))
                        for name, value in inputs.items()])))
        return {"error": exception(answer.result), "return_value": wire(answer.return_value),
                "output_data": {p.name: wire(p.data) for p in answer.output_data}}


async def serve(model: str, app_dir: str, out: Any) -> None:
    driver = Driver(model, app_dir)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        request = json.loads(line)
        op = request.pop("op")
        answer = await getattr(driver, op)(**request)
        out.write(json.dumps(answer) + "\n")
        out.flush()


def main(model: str, app_dir: str) -> None:
    out = os.fdopen(os.dup(1), "w")  # the answers; the app's and the library's prints go to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.chdir(app_dir)
    sys.path.insert(0, app_dir)  # as the proxy worker puts the function app directory on sys.path
    asyncio.run(serve(model, app_dir, out))


if __name__ == "__main__":
    main(*sys.argv[1:])

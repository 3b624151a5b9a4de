"""The host's protocol messages, as the Python worker libraries read and write them: small duck-typed stand-ins for
the FunctionRpc protobuf classes, written from the fields azure-functions-runtime and azure-functions-runtime-v1
use (the libraries take the message module from the request's `properties["protos"]`, so no generated file is
needed). Only what those two libraries touch is here; an unknown field is an error, so a library that starts to
read a new one fails loudly instead of comparing against a default."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, ClassVar


class Message:
    """A protobuf-like message: keyword fields with defaults (None means unset, as in protobuf), and `WhichOneof`
    for its one-of groups."""

    FIELDS: ClassVar[dict[str, Any]] = {}
    ONEOFS: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, **fields: Any) -> None:
        unknown = set(fields) - set(self.FIELDS)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)}")
        for name, default in self.FIELDS.items():
            value = fields.get(name)
            if value is None:  # protobuf reads None as "not set": the field's default
                value = default() if callable(default) else default
            setattr(self, name, value)

    def WhichOneof(self, group: str) -> str | None:  # noqa: N802 (protobuf's name)
        for name in self.ONEOFS[group]:
            if getattr(self, name, None) is not None:
                return name
        return None

    def __repr__(self) -> str:
        shown = {k: v for k, v in vars(self).items() if v not in (None, {}, [], "")}
        return f"{type(self).__name__}({shown})"


class StatusResult(Message):
    Failure, Success, Cancelled = 0, 1, 2
    FIELDS = {"status": 0, "exception": None, "result": "", "logs": list}


class RpcException(Message):
    FIELDS = {"message": "", "stack_trace": "", "source": "", "is_user_exception": False, "type": ""}


class WorkerMetadata(Message):
    FIELDS = {"runtime_name": "", "runtime_version": "", "worker_version": "", "worker_bitness": "",
              "custom_properties": dict}


class WorkerInitResponse(Message):
    FIELDS = {"capabilities": dict, "worker_metadata": None, "result": None, "worker_version": ""}


class FunctionEnvironmentReloadResponse(Message):
    FIELDS = {"capabilities": dict, "worker_metadata": None, "result": None}


class FunctionMetadataResponse(Message):
    FIELDS = {"use_default_metadata_indexing": False, "function_metadata_results": None, "result": None}


class FunctionLoadResponse(Message):
    FIELDS = {"function_id": "", "result": None, "is_dependency_downloaded": False}


class InvocationResponse(Message):
    FIELDS = {"invocation_id": "", "return_value": None, "result": None, "output_data": list}


class BindingInfo(Message):
    # Direction and DataType are protobuf enums: plain ints, compared with `is` by the libraries (small ints are
    # shared objects, as they are for the generated enums).
    out, inout = 1, 2
    undefined, string, binary, stream = 0, 1, 2, 3
    FIELDS = {"type": "", "direction": 0, "data_type": 0, "properties": dict}


setattr(BindingInfo, "in", 0)  # `in` is a keyword, as in the generated class


class RpcRetryOptions(Message):
    FIELDS = {"max_retry_count": 0, "retry_strategy": None, "delay_interval": None, "minimum_interval": None,
              "maximum_interval": None}


class RpcFunctionMetadata(Message):
    FIELDS = {"name": "", "function_id": "", "directory": "", "script_file": "", "entry_point": "",
              "bindings": dict, "is_proxy": False, "status": None, "language": "", "raw_bindings": list,
              "managed_dependency_enabled": False, "retry_options": None, "properties": dict}


class RpcHttpCookie(Message):
    SameSite = SimpleNamespace(Lax=1, Strict=2, ExplicitNone=3, **{"None": 0})
    FIELDS = {"name": "", "value": "", "domain": None, "path": None, "expires": None, "secure": None,
              "http_only": None, "same_site": 0, "max_age": None}


class RpcHttp(Message):
    FIELDS = {"method": "", "url": "", "headers": dict, "body": None, "params": dict, "status_code": "",
              "query": dict, "enable_content_negotiation": False, "cookies": None, "identities": list,
              "nullable_headers": dict, "nullable_params": dict, "nullable_query": dict}


class TypedData(Message):
    KINDS = ("string", "json", "bytes", "stream", "http", "int", "double", "collection_bytes",
             "collection_string", "collection_double", "collection_sint64", "model_binding_data",
             "collection_model_binding_data")
    FIELDS = {kind: None for kind in KINDS}
    ONEOFS = {"data": KINDS}


class ParameterBinding(Message):
    FIELDS = {"name": "", "data": None, "rpc_shared_memory": None}
    ONEOFS = {"rpc_data": ("data", "rpc_shared_memory")}


class NullableString(Message):
    FIELDS = {"value": None}


class NullableBool(Message):
    FIELDS = {"value": None}


class NullableDouble(Message):
    FIELDS = {"value": None}


class NullableTimestamp(Message):
    FIELDS = {"value": None}


# -- what the host sends (the libraries read these) ----------------------------------------------
class WorkerInitRequest(Message):
    FIELDS = {"host_version": "", "capabilities": dict, "log_categories": dict, "worker_directory": "",
              "function_app_directory": ""}


class FunctionsMetadataRequest(Message):
    FIELDS = {"function_app_directory": ""}


class FunctionLoadRequest(Message):
    FIELDS = {"function_id": "", "metadata": None, "managed_dependency_enabled": False}


class RpcTraceContext(Message):
    FIELDS = {"trace_parent": "", "trace_state": "", "attributes": dict}


class RetryContext(Message):
    FIELDS = {"retry_count": 0, "max_retry_count": 0, "exception": None}


class InvocationRequest(Message):
    FIELDS = {"invocation_id": "", "function_id": "", "input_data": list, "trigger_metadata": dict,
              "trace_context": RpcTraceContext, "retry_context": RetryContext}


class StreamingMessage(Message):
    """The envelope: the library reads `request.<kind>_request`."""
    FIELDS = {"request_id": "", "worker_init_request": None, "functions_metadata_request": None,
              "function_load_request": None, "invocation_request": None,
              "function_environment_reload_request": None}


class Request:
    """What the proxy worker hands a library's entry points: the streaming message and its properties (the
    protos module and the host's address)."""

    def __init__(self, message: StreamingMessage, protos: Any, host: str = "127.0.0.1") -> None:
        self.request = message
        self.properties = {"protos": protos, "host": host}

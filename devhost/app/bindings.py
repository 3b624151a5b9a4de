"""Calls a function's entry point the way the Python worker does: inputs decoded and outputs encoded by azure.functions' converters."""
from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import json
import os
import re
import threading
import uuid
from concurrent.futures import Executor
from datetime import datetime
from typing import Any, Callable, Protocol

from azure.functions import meta

from devhost.app.context_json import ContextDecoder, JsonWithContexts
from devhost.app.loader import LoadedFunction
from devhost.model import CLIENT_BINDINGS

_REGISTRY = meta.get_binding_registry()


_HISTORY_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}0Z")  # model.history_timestamp's format


def memoize_sdk() -> None:
    """Where the worker runs the SDK: memoize the pure functions it recomputes on every episode."""
    memoize_sdk_activity_actions()
    quicken_sdk_new_events_search()
    memoize_sdk_timestamp_parsing()
    memoize_sdk_payload_type()
    memoize_sdk_timespan_parsing()
    quicken_sdk_strict_mode_lookup()
    reuse_sdk_json_coders()
    decode_sdk_contexts_incrementally()


def decode_sdk_contexts_incrementally() -> None:
    """The SDK decodes each episode's whole context JSON (DurableOrchestrationContext.from_json), history and all,
    though it begins with the same played events as the last episode's: about a third of its from_json on long
    histories. Its module gets the json module with loads by a ContextDecoder (context_json.py), which decodes only
    what is new: the same dicts json.loads gives."""
    module = importlib.import_module("azure.durable_functions.models.DurableOrchestrationContext")
    if getattr(module, "json", None) is json:
        module.json = JsonWithContexts()
        reuse_sdk_history_events(module, module.json.decoder)


def reuse_sdk_history_events(module: Any, decoder: ContextDecoder) -> None:
    """DurableOrchestrationContext.__init__ builds a HistoryEvent for every event of the history, every episode: about
    a quarter of a long replay. The events the ContextDecoder reused from the last context are the same dicts, so
    their HistoryEvents are too: the context gets the ones built before (the SDK only reads them) and builds the
    rest. Its __init__ then runs on the history's first OrchestratorStarted alone, and what it derives from the whole
    history (the list, the decision's event and time, the version) is set from the full list, as __init__ would; a
    check on sample episodes at start must find every attribute equal to the SDK's own, else nothing is changed."""
    cls = getattr(module, "DurableOrchestrationContext", None)
    make = getattr(module, "HistoryEvent", None)
    started = getattr(getattr(module, "HistoryEventType", None), "ORCHESTRATOR_STARTED", None)
    if cls is None or make is None or started is None or hasattr(cls.__init__, "reusing"):
        return
    original = cls.__init__

    def __init__(self: Any, history: Any, *args: Any, **kwargs: Any) -> None:
        built = decoder.history_events(history, make)
        first = None if built is None else next((e for e in built if e.event_type == started), None)
        if first is None:  # not the history decoded last (or one the SDK refuses): the SDK's own way
            original(self, history, *args, **kwargs)
            return
        original(self, [history[built.index(first)]], *args, **kwargs)
        self._histories = built
        self.decision_started_event = first
        self._current_utc_datetime = first.timestamp
        self._version = cls._extract_version_from_history(built)

    __init__.reusing = True  # type: ignore[attr-defined]
    cls.__init__ = __init__
    if not _contexts_alike(cls, original, decoder):
        cls.__init__ = original


def _contexts_alike(cls: Any, original: Callable[..., None], decoder: ContextDecoder) -> bool:
    """Whether contexts built with reused HistoryEvents have every attribute the SDK's own __init__ gives, on two
    sample episodes (the second reusing the first's)."""
    at = "2024-01-15T08:30:0{}.0000000Z"
    started = {"EventType": 12, "EventId": -1, "IsPlayed": True, "Timestamp": at.format(0)}
    execution = {"EventType": 0, "EventId": -1, "IsPlayed": True, "Timestamp": at.format(0), "Name": "O",
                 "Version": "v1", "Input": json.dumps("x" * decoder.min_chars),  # long enough to be kept
                 "OrchestrationInstance": {"InstanceId": "i", "ExecutionId": "e"}}
    scheduled = {"EventType": 4, "EventId": 0, "IsPlayed": False, "Timestamp": at.format(1), "Name": "A",
                 "Version": "", "Input": "2"}
    completed = {"EventType": 5, "EventId": -1, "IsPlayed": False, "Timestamp": at.format(2), "TaskScheduledId": 0,
                 "Result": "3"}
    episodes = ([started, dict(execution, IsPlayed=False)],
                [started, execution, dict(scheduled, IsPlayed=True), dict(started, Timestamp=at.format(2),
                                                                        IsPlayed=False), completed])

    def attributes(context: Any) -> dict[str, Any]:
        found = dict(vars(context))
        found["_histories"] = [vars(e) for e in found["_histories"]]
        found["decision_started_event"] = vars(found["decision_started_event"])
        found.pop("open_tasks"), found.pop("_function_context")  # per context: compared by type below
        return found

    before = decoder.reused_built
    try:
        for history in episodes:
            text = json.dumps({"history": history, "instanceId": "i", "isReplaying": False,
                               "parentInstanceId": None, "input": None, "upperSchemaVersion": 1},
                              separators=(",", ":"))  # as the host joins them
            ours, theirs = cls(**decoder.loads(text)), cls.__new__(cls)
            original(theirs, **json.loads(text))
            if attributes(ours) != attributes(theirs) or type(ours.open_tasks) is not type(theirs.open_tasks):
                return False
        return decoder.reused_built > before
    except Exception:  # noqa: BLE001 (an SDK laid out otherwise keeps its own __init__)
        return False


class _ReusedCoders:
    """The json module as azure.functions' Durable codec calls it, with `loads(s, object_hook=h)` and
    `dumps(v, default=f)` made by one decoder and one encoder per hook and thread instead of a new one per call (the
    json module builds them anew whenever it is given a keyword): exactly what json does with those arguments, as
    JSONDecoder(object_hook=h).decode(s) and JSONEncoder(default=f).encode(v) are its own definitions. Everything
    else is the json module's."""

    def __init__(self) -> None:
        self._mine = threading.local()  # per thread: a decoder's scanner keeps a memo while it runs
        # Short texts of a scalar and their values, both ways: a hook is never called for a scalar, so its text and
        # value are a pure function of each other (a replay reads the same activity results and schedules the same
        # inputs every episode). Floats are not looked up by value: 0.0 == -0.0, whose texts differ.
        self._values: dict[str, Any] = {}
        self._texts: dict[tuple[type, Any], str] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(json, name)

    def _coder(self, kind: type, **option: Any) -> Any:
        """This thread's json.JSONDecoder or JSONEncoder made with `option` (its one hook), made once per hook."""
        coders = getattr(self._mine, "coders", None)
        if coders is None:
            coders = self._mine.coders = {}
        key = (kind, *option.items())
        coder = coders.get(key)
        if coder is None:
            coder = coders[key] = kind(**option)
        return coder

    def loads(self, s: Any, **kw: Any) -> Any:
        if len(kw) != 1 or "object_hook" not in kw or not isinstance(s, str):
            return json.loads(s, **kw)
        value = self._values.get(s, _MISSING)
        if value is not _MISSING:
            return value
        value = self._coder(json.JSONDecoder, object_hook=kw["object_hook"]).decode(s)
        if type(value) in _SCALARS and len(s) <= _SHORT:
            _remember(self._values, s, value)
        return value

    def dumps(self, obj: Any, **kw: Any) -> str:
        if len(kw) != 1 or "default" not in kw:
            return json.dumps(obj, **kw)
        scalar = type(obj) in _SCALARS_BY_VALUE and (type(obj) is not str or len(obj) <= _SHORT)
        if scalar:
            text = self._texts.get((type(obj), obj))
            if text is not None:
                return text
        text = self._coder(json.JSONEncoder, default=kw["default"]).encode(obj)
        if scalar:
            _remember(self._texts, (type(obj), obj), text)
        return text


_MISSING = object()
_SCALARS = frozenset({str, int, float, bool, type(None)})
_SCALARS_BY_VALUE = _SCALARS - {float}
_SHORT = 256  # characters of a text or string remembered
_REMEMBERED = 4096  # entries each way; then they start over


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    if len(memo) >= _REMEMBERED:
        memo.clear()
    memo[key] = value


def reuse_sdk_json_coders() -> None:
    """azure.functions' Durable codec (df_loads, df_dumps) calls json.loads with an object_hook and json.dumps with a
    default for every activity result a replay reads and every input it schedules; json makes a decoder or encoder
    for each such call, about a sixth of a long replay's codec time. The codec gets the json module with them reused
    (_ReusedCoders): the same texts and values."""
    module = importlib.import_module("azure.functions._durable_functions")
    if getattr(module, "json", None) is json:
        module.json = _ReusedCoders()


def quicken_sdk_strict_mode_lookup() -> None:
    """azure.functions' Durable JSON codec reads AZURE_FUNCTIONS_DURABLE_STRICT_TYPING through os.environ on every
    df_loads and df_dumps, twice per activity result a replay reads: about a tenth of a long replay. The worker reads
    the same variable from os.environ's own mapping with the key encoded once: the same answer whenever the
    variable is set or changed, without os.environ's per-call key encoding and Mapping.get."""
    module = importlib.import_module("azure.functions._durable_functions")
    slow = getattr(module, "_is_strict_mode", None)
    data = getattr(os.environ, "_data", None)
    name = getattr(module, "_STRICT_ENV_VAR", None)
    truthy = getattr(module, "_TRUTHY", None)
    if slow is None or getattr(slow, "quickened", False) or not isinstance(data, dict) or not isinstance(name, str) \
            or not isinstance(truthy, frozenset):
        return
    key, decode = os.environ.encodekey(name), os.environ.decodevalue  # type: ignore[attr-defined]

    def _is_strict_mode() -> bool:
        raw = data.get(key)
        return raw is not None and decode(raw).strip().lower() in truthy

    _is_strict_mode.quickened = True  # type: ignore[attr-defined]
    module._is_strict_mode = _is_strict_mode


def memoize_sdk_payload_type() -> None:
    """The SDK's TaskOrchestrationExecutor makes the same namedtuple class (SetTaskValuePayload) anew for every
    episode, and namedtuple compiles a class each time: about a sixth of a short episode. A namedtuple class is a
    pure function of its name and fields, so the worker gives the SDK one class per name and fields."""
    module = importlib.import_module("azure.durable_functions.models.TaskOrchestrationExecutor")
    make = getattr(module, "namedtuple", None)
    if make is None or hasattr(make, "memoized"):
        return
    classes = functools.lru_cache(maxsize=64)(make)

    def namedtuple(typename: Any, field_names: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            return make(typename, field_names, *args, **kwargs)
        try:
            return classes(typename, field_names)
        except TypeError:  # fields given as a list: not hashable, not memoized
            return make(typename, field_names)

    namedtuple.memoized = classes  # type: ignore[attr-defined]
    module.namedtuple = namedtuple


def memoize_sdk_activity_actions() -> None:
    """Every episode the SDK turns each CallActivityAction of the orchestrator's whole action list into a dict again
    (OrchestratorState.to_json): a cost that grows with the history. The dict is a pure function of the action's
    name and input text (its actionType is the class's), and the SDK only encodes it: the worker hands out one
    dict per name and input (the last 4,096), checked at start to equal the SDK's own."""
    module = importlib.import_module("azure.durable_functions.models.actions.CallActivityAction")
    cls = getattr(module, "CallActivityAction", None)
    original = getattr(cls, "to_json", None)
    if original is None or hasattr(original, "memoized"):
        return
    made: dict[tuple[Any, Any], dict[str, Any]] = {}

    def to_json(self: Any) -> dict[str, Any]:
        if type(self) is not cls or len(vars(self)) != 2:  # a subclass, or an action with more to say
            return original(self)
        key = (self.function_name, self.input_)
        found = made.get(key)
        if found is None:
            found = original(self)
            _remember(made, key, found)
        return found

    to_json.memoized, to_json.sdk = made, original  # type: ignore[attr-defined]
    samples = [cls("Hello", "Tokyo"), cls("Hello", {"n": 1}), cls("Other", None)]
    if all(to_json(a) == original(a) and to_json(cls(a.function_name, None)) == original(cls(a.function_name, None))
           for a in samples):
        cls.to_json = to_json
    made.clear()


def quicken_sdk_new_events_search() -> None:
    """The SDK's executor looks for the episode's last OrchestratorStarted by walking the whole history forward every
    episode; the worker walks it backward from the end, where that event is: the same index (-1 when there is
    none), found after the few new events instead of after all of them."""
    module = importlib.import_module("azure.durable_functions.models.TaskOrchestrationExecutor")
    cls = getattr(module, "TaskOrchestrationExecutor", None)
    started = getattr(getattr(module, "HistoryEventType", None), "ORCHESTRATOR_STARTED", None)
    if cls is None or started is None or not hasattr(cls, "_find_new_events_start_index") or \
            hasattr(cls._find_new_events_start_index, "backward"):
        return

    def _find_new_events_start_index(self: Any, history: list[Any]) -> int:
        for index in range(len(history) - 1, -1, -1):
            if history[index].event_type == started:
                return index
        return -1

    _find_new_events_start_index.backward = True  # type: ignore[attr-defined]
    _find_new_events_start_index.sdk = cls._find_new_events_start_index  # type: ignore[attr-defined]
    cls._find_new_events_start_index = _find_new_events_start_index


def memoize_sdk_timespan_parsing() -> None:
    """Every episode's context carries the same two TimeSpans (maximumShortTimerDuration and
    longRunningTimerIntervalDuration), which the SDK parses with a regular expression each time; a timedelta is a
    pure function of the text, so the worker parses each text once."""
    module = importlib.import_module("azure.durable_functions.models.DurableOrchestrationContext")
    parse = getattr(module, "parse_timespan_attrib", None)
    if parse is None or hasattr(parse, "cache_info"):
        return
    module.parse_timespan_attrib = functools.lru_cache(maxsize=256)(parse)


def memoize_sdk_timestamp_parsing() -> None:
    """The SDK parses every history timestamp with dateutil on every replay, which dominates replaying long
    histories (a fan-in of 10,000 results brings 10,000 different ones). dateutil's parse is a pure function of
    the string (and of the machine's time zone, which decides the tzinfo it gives 'Z'), so the worker memoizes it
    where the SDK's HistoryEvent calls it, and reads the one format devhost writes with datetime.fromisoformat and
    the tzinfo dateutil gives 'Z' here: the same datetimes, about 30 times faster. Should the two disagree on the
    samples checked at start, only the memo is kept."""
    module = importlib.import_module("azure.durable_functions.models.history.HistoryEvent")
    parse = getattr(module, "dt_parse", None)
    if parse is None or hasattr(parse, "cache_info"):
        return
    samples = ("2024-01-15T08:30:00.0000000Z", "2024-07-15T23:59:59.9999990Z")
    zulu = parse(samples[0]).tzinfo

    def fast(text: str) -> datetime:
        return datetime.fromisoformat(text[:-2]).replace(tzinfo=zulu)  # six digits: Python 3.10 reads them too

    agree = all(repr(fast(t)) == repr(parse(t)) and fast(t).utcoffset() == parse(t).utcoffset() for t in samples)

    @functools.lru_cache(maxsize=1 << 16)
    def parse_timestamp(text: Any, *args: Any, **kwargs: Any) -> Any:
        if agree and not args and not kwargs and isinstance(text, str) and _HISTORY_TIMESTAMP.fullmatch(text):
            return fast(text)
        return parse(text, *args, **kwargs)

    module.dt_parse = parse_timestamp


class GenericConverter:
    """What the Python worker uses for a binding type azure.functions has no converter for (twilioSms, sendGrid,
    the legacy orchestrationClient on azure-functions 1.6...): strings, bytes and JSON pass through as they are."""

    @staticmethod
    def decode(data: meta.Datum | None, *, trigger_metadata: Any) -> Any:
        if data is None or data.type is None:
            return None
        if data.type in ("string", "bytes", "json"):
            return data.value
        raise ValueError(f"unexpected type of data received for the \"generic\" binding: {data.type!r}")

    @staticmethod
    def encode(obj: Any, *, expected_type: Any) -> meta.Datum:
        if obj is None or isinstance(obj, (str, dict, list)):
            kind = {str: "string", dict: "dict", list: "list"}.get(type(obj))
            return meta.Datum(type=kind, value=obj)
        if isinstance(obj, (bytes, bytearray)):
            return meta.Datum(type="bytes", value=bytes(obj))
        if isinstance(obj, bool):
            return meta.Datum(type="bool", value=obj)
        if isinstance(obj, (int, float)):
            return meta.Datum(type="int" if isinstance(obj, int) else "double", value=obj)
        raise NotImplementedError(f"the generic binding cannot encode {type(obj).__name__}")

    @staticmethod
    def has_implicit_output() -> bool:
        return False


def converter(binding_type: str) -> Any:
    """The azure.functions converter registered for a binding type, else the generic one (as in the worker)."""
    return _REGISTRY.get(binding_type) or GenericConverter


def has_implicit_output(binding_type: str) -> bool:
    """Whether the worker takes a function's return value through a binding of this type: a registered converter
    says so itself (the Durable triggers do); the worker's generic binding says yes for every other type but
    durableClient."""
    registered = _REGISTRY.get(binding_type)
    if registered is None:
        return binding_type != "durableClient"
    return bool(getattr(registered, "has_implicit_output", lambda: False)())


class Out:
    """The value holder the worker passes for a named output binding (func.Out)."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value


class Context:
    """The func.Context a function receives when it declares a `context` parameter."""

    def __init__(self, fn: LoadedFunction) -> None:
        self.invocation_id = str(uuid.uuid4())
        self.function_name = fn.spec.name
        self.function_directory = fn.spec.directory
        self.trace_context = None
        self.retry_context = None
        self.thread_local_storage = None


def http_datum(method: str, url: str, headers: dict[str, str], query: dict[str, str],
               params: dict[str, str], body: bytes, content_type: str) -> meta.Datum:
    """The RpcHttp datum the host sends for an httpTrigger."""
    ctype = content_type.lower()
    if "json" in ctype or ctype.startswith("text/"):
        try:
            body_datum = meta.Datum(type="json" if "json" in ctype else "string", value=body.decode("utf-8"))
        except UnicodeDecodeError:
            body_datum = meta.Datum(type="bytes", value=body)
    else:
        body_datum = meta.Datum(type="bytes", value=body)
    s = functools.partial(meta.Datum, type="string")
    return meta.Datum(type="http", value={
        "method": s(value=method), "url": s(value=url),
        "headers": {k: s(value=v) for k, v in headers.items()},
        "query": {k: s(value=v) for k, v in query.items()},
        "params": {k: s(value=v) for k, v in params.items()},
        "body": body_datum,
    })


def string_datum(text: str | None) -> meta.Datum:
    return meta.Datum(type="string", value=text)


def client_inputs(spec: Any, client_payload: str) -> dict[str, meta.Datum]:
    """The Durable client payload for each durableClient/orchestrationClient binding of a function."""
    return {b.name: string_datum(client_payload) for b in spec.bindings if b.type in CLIENT_BINDINGS}


class Invoker(Protocol):
    """A function devhost can call: its loaded spec (`fn.spec`) and `call`, which takes the input data by binding
    name and returns the output data by binding name ($return included). Invocation calls it in this process;
    workers.process.RemoteInvocation in a worker process. Every part of devhost that calls functions (dispatcher,
    HTTP routes, timer triggers) takes this type."""

    @property
    def fn(self) -> LoadedFunction: ...

    async def call(self, inputs: dict[str, meta.Datum]) -> dict[str, meta.Datum]: ...


class Invocation:
    """One call of an entry point: decodes inputs, runs the code (`async def` on the event loop, `def` in the
    thread pool, whatever the trigger, as the Python worker does), encodes outputs."""

    def __init__(self, fn: LoadedFunction, executor: Executor | None = None) -> None:
        self.fn = fn
        self.executor = executor
        self.params = inspect.signature(fn.main).parameters
        self.is_async = inspect.iscoroutinefunction(fn.main)
        # Where a return value can go: a $return binding, or a binding whose type takes it implicitly.
        self.has_return = any(b.name == "$return" or has_implicit_output(b.type) for b in fn.spec.bindings)

    def _arguments(self, inputs: dict[str, meta.Datum]) -> tuple[dict[str, Any], dict[str, Out]]:
        args: dict[str, Any] = {}
        outs: dict[str, Out] = {}
        for b in self.fn.spec.bindings:
            if b.name == "$return" or b.name not in self.params:
                continue
            if b.direction == "out":
                outs[b.name] = args[b.name] = Out()
            elif b.name in inputs:
                args[b.name] = converter(b.type).decode(inputs[b.name], trigger_metadata={})
            else:
                args[b.name] = None  # an input devhost has no data for (a blob, a table row...)
        if "context" in self.params and "context" not in args:
            args["context"] = Context(self.fn)
        return args, outs

    def _encode(self, result: Any, outs: dict[str, Out]) -> dict[str, meta.Datum]:
        if result is not None and not self.has_return:
            # The Python worker's own error, word for word (its arguments are passed as a tuple, not formatted).
            raise RuntimeError("function %s without a $return binding" "returned a non-None value",
                               repr(self.fn.spec.name))
        encoded: dict[str, meta.Datum] = {}
        for b in self.fn.spec.bindings:
            if b.name == "$return":
                value = result
            elif b.name in outs:
                value = outs[b.name].get()
            elif b.direction == "in" and b.type.endswith("Trigger") and converter(b.type).has_implicit_output():
                value = result  # orchestration/activity/entity triggers return through the trigger
            else:
                continue
            if value is not None or b.name == "$return" or b.type.endswith("Trigger"):
                encoded[b.name] = converter(b.type).encode(value, expected_type=None)
        return encoded

    def call_sync(self, inputs: dict[str, meta.Datum]) -> dict[str, meta.Datum]:
        """Run a plain (non-async) function in the calling thread."""
        args, outs = self._arguments(inputs)
        return self._encode(self.fn.main(**args), outs)

    async def call(self, inputs: dict[str, meta.Datum]) -> dict[str, meta.Datum]:
        """Run the function: async ones on the event loop, plain ones in the thread pool."""
        if self.is_async:
            args, outs = self._arguments(inputs)
            return self._encode(await self.fn.main(**args), outs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self.call_sync, inputs)


def returned(fn: LoadedFunction, outputs: dict[str, meta.Datum]) -> meta.Datum | None:
    """The datum of the implicit trigger output or $return."""
    if "$return" in outputs:
        return outputs["$return"]
    trigger = fn.spec.trigger
    return outputs.get(trigger.name) if trigger else None

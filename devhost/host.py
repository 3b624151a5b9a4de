"""Wires devhost together: configuration, functions, store, dispatcher, operations and the HTTP server."""
from __future__ import annotations

import asyncio
import functools
import json
import logging
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

from aiohttp import web

from devhost.app import file_watch
from devhost.app.bindings import Invocation, Invoker, memoize_sdk
from devhost.app.config import (
    DEFAULT_PORT,
    apply_values,
    load_config,
    python_log_level,
    threadpool_size,
    worker_process_count,
    worker_start_timeout,
)
from devhost.app.discovery import load_functions
from devhost.app.indexing import nothing_loaded, script_file_name
from devhost.app.keys import HostKeys, load_keys, secrets_folder
from devhost.app.loader import binding_notes, scan_specs
from devhost.app.route_templates import RouteTemplateError, compile_route
from devhost.clock import Clock
from devhost.errors import ConfigError
from devhost.malloc import map_big_blocks
from devhost.protocol.status_payloads import code_parameter, management_urls
from devhost.protocol.stories import Storyteller
from devhost.runtime.dispatcher import Dispatcher
from devhost.runtime.operations import Operations
from devhost.runtime.store.backends import open_store
from devhost.runtime.store.contract import Store
from devhost.runtime.time_travel import TimeTravel
from devhost.runtime.timer_triggers import TimerTriggers
from devhost.web.admin_api import AdminApi, TimeTravelApi
from devhost.web.admin_payloads import function_metadata, load_errors
from devhost.web.bodies import body_limit
from devhost.web.function_routes import FunctionRoutes
from devhost.web.guard import Guard, is_loopback
from devhost.web.management_api import DurableApi
from devhost.web.server import DASHBOARD_PATH, RPC, WEBHOOK, make_app
from devhost.workers import selector
from devhost.workers.pool import WorkerPool
from devhost.workers.process import RemoteInvocation

log = logging.getLogger("devhost")
WATCH_INTERVAL = 0.5  # seconds between looks at the app's files
SETTLE_INTERVAL = 0.25  # a change counts once the files stood still this long
CLOCK_OFFSET = "time_travel_offset_seconds"


def _bracketed(address: str) -> str:
    """An address as it stands in a URL: IPv6 in brackets."""
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


@dataclass
class HostOptions:
    """The command line of `python -m devhost` (flag names as in `func start`)."""

    script_root: str = "."
    port: int | None = None
    host: str = "127.0.0.1"
    store: str | None = None
    durability: str = "normal"
    time_travel: bool = False
    verbose: bool = False
    in_process: bool = False  # run the app's code in the host process (simplest for a debugger) instead of a worker
    allow_hosts: tuple[str, ...] = ()  # Host header names served besides local ones (docs/security.md)
    cors: tuple[str, ...] = ()  # origins given CORS headers and let make management changes (`func start --cors`)
    cors_credentials: bool = False
    require_key: bool | None = None  # keys for management and HTTP functions; None: only when not bound to loopback
    poll_us: int = 0  # selector.py: how long the event loop polls for a worker's answer before it sleeps
    reload: bool = True  # restart when the app's files change (never with in_process: the code is in this process)
    worker_start_timeout: float | None = None  # seconds for a worker to import the app; None: the setting, else 60


class Host:
    """A running devhost: start() binds the port and starts the dispatcher; stop() shuts down cleanly."""

    def __init__(self, options: HostOptions, clock: Clock | None = None) -> None:
        self.options = options
        # the selector of the loop to serve on (selector.run), told when a worker call is in flight; None: off
        self.poller = selector.selector(options.poll_us)
        self.clock = clock or Clock()
        self.config = load_config(options.script_root)
        self.port = options.port or self.config.local_http_port or DEFAULT_PORT
        apply_values(self.config, self.port)
        if not options.verbose:
            logging.getLogger().setLevel(python_log_level(self.config.log_level))
        root = self.config.script_root
        self.store_path = Path(options.store) if options.store else root / ".devhost" / "store.sqlite"
        self.invocations: dict[str, Invoker] = {}
        self.skipped: list[tuple[str, str]] = []
        self.workers: WorkerPool | None = None
        self.executor = ThreadPoolExecutor(max_workers=threadpool_size(), thread_name_prefix="devhost-fn")
        self.store: Store | None = None
        self.dispatcher: Dispatcher | None = None
        self.timers: TimerTriggers | None = None
        self.runner: web.AppRunner | None = None
        self.key_required = options.require_key if options.require_key is not None else not is_loopback(options.host)
        self.keys: HostKeys | None = None
        self._released = False
        self._files: file_watch.Snapshot = {}  # the app's files as they were when this host started

    @property
    def public_origin(self) -> str:
        shown = "localhost" if self.options.host in ("127.0.0.1", "localhost", "0.0.0.0", "::") else \
            _bracketed(self.options.host)
        return f"http://{shown}:{self.port}"

    @property
    def _rpc_address(self) -> str:
        """Where the app's own Durable client (the binding's rpcBaseUrl) reaches the RPC API: always over loopback,
        so its calls come from this machine and need no key whatever --host is (docs/security.md §3)."""
        bind = self.options.host.strip()
        return _bracketed(bind) if is_loopback(bind) and bind != "localhost" else "127.0.0.1"

    @property
    def _listen_addresses(self) -> list[str]:
        """--host, and 127.0.0.1 beside it when --host is one address of this machine other than loopback: that is
        where the worker's Durable client calls (a wildcard address covers loopback already)."""
        bind = self.options.host.strip()
        if bind in ("", "0.0.0.0", "::") or is_loopback(bind):
            return [self.options.host]
        return [self.options.host, "127.0.0.1"]

    @functools.cached_property
    def _client_payload(self) -> str:
        return self._build_client_payload()

    def client_payload(self) -> str:
        """The durableClient binding's JSON (docs/protocol.md §1); the same for every invocation."""
        return self._client_payload

    def _build_client_payload(self) -> str:
        base = self.public_origin + WEBHOOK
        hub = self.config.hub_name
        key = self.keys.system_key if self.keys else None
        code = code_parameter(key)
        creation = f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]"
        return json.dumps({
            "taskHubName": hub, "connectionName": None,
            "creationUrls": {
                "createNewInstancePostUri": creation + (f"?{code}" if code else ""),
                "createAndWaitOnNewInstancePostUri": f"{creation}?timeout={{timeoutInSeconds}}"
                                                     f"&pollingInterval={{intervalInSeconds}}"
                                                     + (f"&{code}" if code else "")},
            "managementUrls": management_urls(base, hub, key=key),
            "baseUrl": base, "requiredQueryStringParameters": code,
            "rpcBaseUrl": f"http://{self._rpc_address}:{self.port}{RPC}/", "httpBaseUrl": None,
            "maxGrpcMessageSizeInBytes": None,
        }, separators=(",", ":"))

    def _http_functions(self) -> list[tuple]:
        out = []
        for invocation in self.invocations.values():
            spec = invocation.fn.spec
            if spec.kind != "http":
                continue
            route = str(spec.trigger.raw.get("route") or spec.name)
            methods = frozenset(str(m).lower() for m in spec.trigger.raw.get("methods") or [])
            display = "/".join(p for p in (self.config.route_prefix.strip("/"), route.strip("/")) if p)
            try:
                out.append((compile_route(route, display), methods, invocation))
            except RouteTemplateError as exc:  # the host's router throws while it maps the routes: no host starts
                raise ConfigError(f"The function '{spec.name}' has a route the host cannot build: {exc}") from None
        return out

    async def _load(self) -> None:
        """Import the app: in this process (--in-process), or in the worker process that runs its code."""
        root = self.config.script_root
        map_big_blocks()
        if self.options.in_process:
            memoize_sdk()
            report = load_functions(root)
            self.skipped = report.skipped
            self.invocations = {name: Invocation(fn, self.executor) for name, fn in report.functions.items()}
            return
        self.workers = WorkerPool(str(root), worker_process_count(), self.config.function_timeout,
                                  self.options.worker_start_timeout or worker_start_timeout())
        if self.poller is not None:
            self.poller.expecting = self.workers.in_flight
        hello = await self.workers.start()
        if hello is None:  # the pool keeps starting workers; serve meanwhile every function the folders declare
            # (a v2 app's functions are known only once a worker has imported function_app.py)
            specs, self.skipped = ([], []) if (root / script_file_name()).is_file() else scan_specs(root)
            self.invocations = {s.name: RemoteInvocation(self.workers, s) for s in specs}
            return
        self.skipped = hello.skipped
        self.invocations = {s.name: RemoteInvocation(self.workers, s) for s in hello.specs}

    async def start(self) -> None:
        started = time.perf_counter()
        self.store = open_store(self.store_path, self.options.durability)
        self.store.enable_group_commit(asyncio.get_running_loop())
        saved_offset = self.store.get_setting(CLOCK_OFFSET)
        if self.options.time_travel and saved_offset:
            self.clock.advance(max(0.0, float(saved_offset) - self.clock.offset))
        if self.key_required:
            self.keys = load_keys(secrets_folder(self.config.values, self.store_path.parent / "secrets"))
        await self._load()
        self.timers = TimerTriggers(self.invocations, self.clock, self.store, self.client_payload)
        self.timers.schedule_all()
        self.skipped += self.timers.skipped
        for name, _ in self.timers.skipped:
            del self.invocations[name]
        stories = Storyteller.of(self.config.script_root, self.skipped)  # failures told with the load errors
        self.dispatcher = Dispatcher(self.store, self.invocations, self.clock,
                                     activity_workers=self.config.max_concurrent_activities,
                                     orchestration_workers=self.config.max_concurrent_orchestrators,
                                     stories=stories, client_payload=self.client_payload,
                                     max_actions=self.config.max_orchestration_actions)
        self.travel = TimeTravel(self.clock, [self.dispatcher, self.timers], self._keep_clock)
        orchestrators = sorted(i.fn.spec.durable_name for i in self.invocations.values()
                               if i.fn.spec.kind == "orchestration")
        entities = sorted(i.fn.spec.name for i in self.invocations.values() if i.fn.spec.kind == "entity")
        ops = Operations(self.store, lambda: orchestrators, self.clock, self.dispatcher.hand_on,
                         entities=lambda: entities, stories=stories)
        self.ops = ops
        specs = sorted((i.fn.spec for i in self.invocations.values()), key=lambda s: s.name.lower())
        admin = AdminApi([function_metadata(s, self.public_origin, self.config.route_prefix) for s in specs],
                         load_errors(self.skipped))
        app = make_app(DurableApi(ops, self.config.hub_name, self.keys.system_key if self.keys else None,
                                  self.dispatcher.finished, self.config.use_app_lease),
                       FunctionRoutes(self._http_functions(), self.client_payload, self.guard(), stories),
                       self.config.route_prefix, self.store.durable, admin,
                       TimeTravelApi(self._advance) if self.options.time_travel else None, body_limit(self.config.values))
        app.cleanup_ctx.append(self._lifecycle)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()  # starts the dispatcher (_lifecycle)
        for address in self._listen_addresses:
            await web.TCPSite(self.runner, address, self.port, reuse_address=True).start()
        self._print_banner(time.perf_counter() - started)
        await self.timers.start()  # after the banner: a past-due or runOnStartup run comes after "ready"

    def guard(self) -> Guard:
        """The access policy from the command line and local.settings.json (Host.CORS, Host.CORSCredentials)."""
        cors = {o.strip().rstrip("/") for o in (*self.options.cors, *self.config.cors) if o.strip()}
        return Guard(bind=self.options.host, allow_hosts=frozenset(self.options.allow_hosts),
                     cors_origins=frozenset(cors),
                     cors_credentials=self.options.cors_credentials or self.config.cors_credentials,
                     keys=self.keys)

    async def _advance(self, seconds: float, timeout: float, stepwise: bool) -> dict[str, object]:
        """Move durable time forward by `seconds` (time travel, devhost.runtime.time_travel): timer by timer, or in one jump when
        not stepwise; returns once what became due has run (or `timeout` passed)."""
        travel = await self.travel.advance(seconds, timeout, stepwise)
        return {"now": self.clock.now().isoformat(), "offsetSeconds": self.clock.offset, "steps": travel.steps,
                "settled": travel.settled}

    def _keep_clock(self) -> None:
        """Durable time is part of the data: after a restart, timers stay due and history timestamps never go
        back."""
        assert self.store is not None
        self.store.put_setting(CLOCK_OFFSET, repr(self.clock.skew))

    async def _lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """The aiohttp app's cleanup_ctx: the dispatcher runs while the app does; once the app has stopped serving,
        everything behind it stops, in order."""
        assert self.dispatcher is not None
        await self.dispatcher.start()
        yield
        await self._release()

    def _print_banner(self, elapsed: float) -> None:
        lines = ["", "Functions:", ""]
        prefix = f"/{self.config.route_prefix}" if self.config.route_prefix else ""
        for fn in sorted((i.fn for i in self.invocations.values()), key=lambda f: f.spec.name.lower()):
            trigger = fn.spec.trigger
            if fn.spec.kind == "http":
                methods = ",".join(m.upper() for m in trigger.raw.get("methods") or []) or "ALL"
                route = trigger.raw.get("route") or fn.spec.name
                lines.append(f"\t{fn.spec.name}: [{methods}] {self.public_origin}{prefix}/{route}")
            elif fn.spec.kind == "timer":
                lines.append(f"\t{fn.spec.name}: {self.timers.listing(fn.spec.name)}")
            else:
                lines.append(f"\t{fn.spec.name}: {trigger.type}")
            lines.extend(f"\t\t{note}" for note in binding_notes(fn.spec))
            lines.append("")
        for name, reason in self.skipped:
            lines.append(f"\t{name}: not loaded ({reason})")
            lines.append("")
        if not self.invocations:
            lines += [f"No functions loaded: {nothing_loaded(self.config.script_root, self.skipped)}", ""]
        lines += self._exposure_lines()
        if self.config.extended_sessions:
            lines.append("WARNING: host.json sets extensions.durableTask.extendedSessionsEnabled, which the Durable "
                         "extension ignores for out-of-process languages such as Python; devhost ignores it too.")
        if self.options.time_travel:
            lines.append("WARNING: time travel is ON: POST /admin/devhost/advance?seconds=N moves durable time "
                         f"forward (now {self.clock.offset:.0f} s ahead). Do not use this for real work.")
        if self.workers is not None:
            lines.append(f"Workers: {self.workers.summary()}")
        lines.append(self._reload_line())
        lines.append(f"Dashboard: {self.public_origin}{DASHBOARD_PATH}{self._dashboard_code()}")
        lines.append("")
        also = "".join(f" (and on http://{_bracketed(a)}:{self.port} for the app's own Durable client)"
                       for a in self._listen_addresses[1:])
        lines.append(f"devhost ready on http://{self.options.host}:{self.port}{also} in {elapsed * 1000:.0f} ms "
                     f"(hub {self.config.hub_name}, store {self.store_path}, durability {self.options.durability})")
        print("\n".join(lines), flush=True)

    @property
    def reloads(self) -> bool:
        return self.options.reload and not self.options.in_process

    def _reload_line(self) -> str:
        if self.reloads:
            return ("Reload on change: on (a function's code or function.json, host.json or local.settings.json "
                    "changed: devhost restarts; --no-reload turns it off)")
        if self.options.in_process:
            return "Reload on change: off with --in-process (the app's code is in this process): restart to pick up edits"
        return "Reload on change: off (--no-reload): restart devhost to pick up edits"

    async def _changed_files(self) -> list[str]:
        """Wait until the app's files change and then stand still for a moment (editors write in several steps);
        the files that changed."""
        root = self.config.script_root
        before = self._files
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            now = await asyncio.to_thread(file_watch.snapshot, root)
            while file_watch.changes(before, now):
                await asyncio.sleep(SETTLE_INTERVAL)
                later = await asyncio.to_thread(file_watch.snapshot, root)
                if later == now:
                    return file_watch.changes(before, now)
                now = later

    def _exposure_lines(self) -> list[str]:
        """The start-up warning when other machines can reach devhost, and where its keys are."""
        lines = []
        if not is_loopback(self.options.host):
            lines.append(f"WARNING: devhost listens on {self.options.host}: other machines can reach it. "
                         + ("The management API, the dashboard and HTTP functions (by authLevel) require keys."
                            if self.keys else "--no-require-key: anyone who reaches it can drive every instance.")
                         + " Use --host 127.0.0.1 to keep it to this machine.")
        if self.keys is None:
            return lines
        secrets = self.keys.folder / "host.json"
        if self.keys.generated:
            lines += [f"Keys generated into {secrets} (shown only this once; pass one as code= or x-functions-key):",
                      f"\tmaster (every request): {self.keys.master}",
                      f"\tdurabletask_extension (management API and dashboard): {self.keys.system_key}",
                      *(f"\tfunction key (authLevel function): {k}" for k in self.keys.function_keys[:1])]
        else:
            lines.append(f"Keys required (code= or x-functions-key): they are in {secrets}")
        return lines

    def _dashboard_code(self) -> str:
        """The dashboard needs the system key when keys are required; it is shown in full only when just made."""
        if self.keys is None:
            return ""
        return f"?{code_parameter(self.keys.system_key)}" if self.keys.generated else "?code=<durabletask_extension key>"

    async def stop(self) -> None:
        """Stop serving, then (the app's cleanup_ctx) timers, dispatcher, workers and store; a start that failed
        half-way releases what it had made."""
        if self.workers is not None:
            self.workers.wind_down()  # HTTP requests waiting for a worker to start answer now, not at its deadline
        if self.runner is not None:
            await self.runner.cleanup()
        else:
            await self._release()

    async def _release(self) -> None:
        if self._released:
            return
        self._released = True
        if self.timers is not None:
            await self.timers.stop()
        if self.dispatcher is not None:
            await self.dispatcher.stop()
        if self.workers is not None:
            await self.workers.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self.store is not None:
            self.store.close()

    async def serve_forever(self) -> bool:
        """Start, serve until SIGINT/SIGTERM (False) or until the app's files change (True: the caller starts a new
        Host, which reads everything again; the work in flight carries on from the store), stop. A signal during the
        start cancels it (a worker may still be importing the app, or hang there); a start that fails releases what
        it had made before raising."""
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        changed: list[str] = []
        try:
            if self.reloads:
                self._files = await asyncio.to_thread(file_watch.snapshot, self.config.script_root)
            if await self._start_unless(stopping):
                changed = await self._serve(stopping)
                if changed:
                    print(f"devhost: {file_watch.describe(changed)} changed: restarting (work in flight carries on "
                          f"from the store)", flush=True)
                else:
                    print("devhost: stopping (work in flight stays in the store and resumes at the next start)",
                          file=sys.stderr, flush=True)
            else:
                print("devhost: stopped while starting", file=sys.stderr, flush=True)
        finally:
            await self.stop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        return bool(changed)

    async def _serve(self, stopping: asyncio.Event) -> list[str]:
        """Serve until a signal ([]) or until the app's files change (the files that changed)."""
        waits = [asyncio.ensure_future(stopping.wait())]
        if self.reloads:
            waits.append(asyncio.ensure_future(self._changed_files()))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        return [] if stopping.is_set() else waits[-1].result()

    async def _start_unless(self, stopping: asyncio.Event) -> bool:
        """start(), unless `stopping` is set first (then the start is cancelled): whether it started."""
        starting = asyncio.ensure_future(self.start())
        signalled = asyncio.ensure_future(stopping.wait())
        try:
            await asyncio.wait((starting, signalled), return_when=asyncio.FIRST_COMPLETED)
        finally:
            signalled.cancel()
            if not starting.done():
                starting.cancel()
                await asyncio.gather(starting, return_exceptions=True)
        if starting.cancelled():
            return False
        starting.result()  # raises what the start raised
        return True

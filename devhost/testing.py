"""The test harness, for devhost's own tests and for users' tests: a devhost in its own process on a free port
with a temporary store, helpers that poll with deadlines, and pytest fixtures over them.

Use it from a conftest.py:  pytest_plugins = ["devhost.testing"]
Set DEVHOST_E2E_BASE_URL=http://localhost:7071 to run the same tests against a running `func start` instead
(and DEVHOST_E2E_KEY to a key when that host requires one)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator, TypeVar

import requests

from devhost.app.keys import SECRETS_PATH_SETTING, HostKeys, load_keys
from devhost.model import RPC_PATH, TERMINAL_STATUSES, WEBHOOK_PATH, RuntimeStatus, parse_timestamp
from devhost.protocol.status_payloads import management_urls

T = TypeVar("T")
TERMINAL = tuple(s.value for s in RuntimeStatus if s in TERMINAL_STATUSES)  # the runtimeStatus texts of a finished instance
BASE_URL_ENV = "DEVHOST_E2E_BASE_URL"
KEY_ENV = "DEVHOST_E2E_KEY"
WEBHOOK, RPC = WEBHOOK_PATH, RPC_PATH


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _parent_death_signal() -> Callable[[], None] | None:
    """On Linux, a preexec function asking for SIGTERM when the test process dies, so an interrupted test run
    leaves no devhost behind. prctl is looked up here, before any fork: the child only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig, sigterm = 1, int(signal.SIGTERM)
    return lambda: prctl(pr_set_pdeathsig, sigterm)


_die_with_parent = _parent_death_signal()


def timestamp(text: str) -> datetime:
    """A timestamp of a status or history payload ("2024-05-01T12:00:00Z", with or without fraction)."""
    return parse_timestamp(text)


def _runs_worker(pid: int) -> bool:
    """Process `pid` runs devhost's worker module (it has exec'd it): Linux /proc."""
    try:
        return b"devhost.workers.process" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class TimeoutExpired(AssertionError):
    """A wait ran past its deadline; the message carries the last thing seen."""


class TimeTravelUnsupported(RuntimeError):
    """advance() on a host that cannot move durable time (a remote host, or devhost without --time-travel)."""


def poll(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01, what: str = "condition") -> Any:
    """Call check() until it returns something truthy or the deadline passes (then TimeoutExpired)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise TimeoutExpired(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


class Client:
    """The one client a test holds, whatever made the host: HTTP helpers over a running host (devhost or
    `func start`). `supports_time_travel` says whether advance() can move durable time there."""

    supports_time_travel = False

    def __init__(self, base_url: str, hub: str = "TestHubName", key: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.hub = hub
        self.http = requests.Session()
        self.key: str | None = None
        self.use_key(key)

    def use_key(self, key: str | None) -> None:
        """Send `key` (as x-functions-key) with every request of self.http, for a host that requires keys."""
        self.key = key
        if key:
            self.http.headers["x-functions-key"] = key
        else:
            self.http.headers.pop("x-functions-key", None)

    def url(self, path: str) -> str:
        return self.base_url + path

    def http_start(self, function: str = "HelloOrchestrator", body: Any = None, route: str = "orchestrators",
              method: str = "POST") -> requests.Response:
        """Call the app's HTTP starter (by default the quickstart's /api/orchestrators/{functionName})."""
        kwargs = {} if body is None else {"json": body}
        return self.http.request(method, self.url(f"/api/{route}/{function}"), timeout=30, **kwargs)

    def start_instance(self, function: str = "HelloOrchestrator", body: Any = None) -> str:
        response = self.http_start(function, body)
        assert response.status_code == 202, f"{response.status_code} {response.text}\n{self._diagnosis()}"
        return response.json()["id"]

    def _diagnosis(self) -> str:
        """What may say why a call failed (a host process's subclass gives the end of its log)."""
        return ""

    def status(self, instance_id: str, **query: Any) -> dict[str, Any] | None:
        """The instance's status JSON, as wait() returns it (query: showHistory=True, showInput=False, ...); None
        when the host has no such instance (404). Any other answer that is not a status raises AssertionError."""
        response = self.status_response(instance_id, **query)
        if response.status_code == 404:
            return None
        assert response.status_code in (200, 202, 500), f"{response.status_code} {response.text}"
        return response.json()

    def status_response(self, instance_id: str, **query: Any) -> requests.Response:
        """The raw HTTP answer of the status route, for tests of status codes and headers."""
        params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in query.items()}
        return self.http.get(self.url(f"{WEBHOOK}/instances/{instance_id}"), params=params, timeout=30)

    def wait(self, instance_id: str, timeout: float = 15.0, statuses: tuple[str, ...] = TERMINAL,
             **query: Any) -> dict[str, Any]:
        """Poll the status until runtimeStatus is one of `statuses`; returns the status JSON."""
        seen: dict[str, Any] = {}

        def check() -> dict[str, Any] | None:
            body = self.status(instance_id, **query)
            seen["last"] = "404" if body is None else body
            if body is None:
                return None
            return body if body.get("runtimeStatus") in statuses else None

        try:
            return poll(check, timeout, what=f"instance {instance_id} to reach {statuses}")
        except TimeoutExpired as exc:
            raise TimeoutExpired(f"{exc}; last status: {seen.get('last')!r}") from None

    def history(self, instance_id: str, output: bool = True) -> list[dict[str, Any]]:
        """The instance's historyEvents (with results unless output=False)."""
        status = self.status(instance_id, showHistory=True, showHistoryOutput=output)
        assert status is not None, f"no instance {instance_id}"
        return status["historyEvents"]

    def export(self, instance_id: str) -> dict[str, Any]:
        """The instance's status with its whole history, inputs and outputs: what the dashboard's "Download
        history" saves and `python -m devhost replay` reads."""
        status = self.status(instance_id, showHistory="true", showHistoryOutput="true", showInput="true")
        assert status is not None, f"no instance {instance_id}"
        return status

    def record_history(self, instance_id: str, folder: str | os.PathLike[str]) -> Path:
        """Save the instance's export into folder as <instance id>.json (the folder made when missing), for a
        folder of recorded histories that replay_histories / assert_replays check every change against."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{safe_file_name(instance_id)}.json"
        path.write_text(json.dumps(self.export(instance_id), indent=2) + "\n", encoding="utf-8")
        return path

    def event_kinds(self, instance_id: str) -> list[str]:
        """The EventType of each historyEvent, in order."""
        return [e["EventType"] for e in self.history(instance_id, output=False)]

    def raise_event(self, instance_id: str, name: str, data: Any = None) -> requests.Response:
        """POST raiseEvent with `data` as the JSON body (None: JSON null; the host wants a JSON body)."""
        return self.http.post(self.url(f"{WEBHOOK}/instances/{instance_id}/raiseEvent/{name}"), timeout=30,
                              data=json.dumps(data), headers={"Content-Type": "application/json"})

    def post_op(self, instance_id: str, operation: str, **query: Any) -> requests.Response:
        return self.http.post(self.url(f"{WEBHOOK}/instances/{instance_id}/{operation}"), params=query, timeout=30)

    def advance(self, seconds: float, timeout: float = 60.0, stepwise: bool = True) -> dict[str, Any]:
        """Move durable time forward (devhost with time travel only), timer by timer (stepwise=False: in one jump,
        as when the machine sleeps): returns once what became due has run, so a test can assert right after. The
        answer: now, offsetSeconds, steps (due times stepped through) and settled (False when the work did not
        come to rest within `timeout`)."""
        if not self.supports_time_travel:
            raise TimeTravelUnsupported(f"{self.base_url} cannot move durable time: start it with "
                                        f"start_time_travel() (or DevhostProcess(..., time_travel=True))")
        params = {"seconds": seconds, "timeout": timeout, "stepwise": str(stepwise).lower()}
        response = self.http.post(self.url("/admin/devhost/advance"), params=params, timeout=timeout + 30)
        response.raise_for_status()
        return response.json()

    def binding_payload(self) -> str:
        """A durableClient binding payload pointing at this host (the webhook path serves the RPC API too). With a
        key, the SDK (which sends no key) calls devhost's RPC path, served without one to this machine only."""
        base = self.url(WEBHOOK)
        return json.dumps({
            "taskHubName": self.hub,
            "creationUrls": {"createNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]"},
            "managementUrls": management_urls(base, self.hub, key=self.key),
            "rpcBaseUrl": self.url(RPC + "/") if self.key else base + "/"})

    def sdk(self, call: Callable[[Any], Awaitable[T]]) -> T:
        """Run `call(client)` with the SDK's own DurableOrchestrationClient against this host, in a fresh loop."""
        from azure.durable_functions import DurableOrchestrationClient
        from azure.durable_functions.models.utils import http_utils

        async def run() -> T:
            http_utils._client_session = None  # the SDK's shared session belongs to one event loop
            try:
                return await call(DurableOrchestrationClient(self.binding_payload()))
            finally:
                if http_utils._client_session is not None:
                    await http_utils._client_session.close()
                http_utils._client_session = None

        return asyncio.run(run())


class DevhostProcess(Client):
    """`python -m devhost` on a free port, in its own process, with its own store."""

    def __init__(self, script_root: str | os.PathLike[str], store: str | os.PathLike[str] | None = None,
                 port: int | None = None, time_travel: bool = False, extra_args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None, require_key: bool = False,
                 log_path: str | os.PathLike[str] | None = None, reload: bool = False) -> None:
        self.port = port or free_port()
        super().__init__(f"http://127.0.0.1:{self.port}")
        self.script_root = Path(script_root)
        self._tmp = None
        if store is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="devhost-")
            store = Path(self._tmp.name) / "store.sqlite"
        self.store = Path(store)
        self.time_travel = time_travel
        self.extra_args = extra_args
        self.env = env
        self.process: subprocess.Popen[str] | None = None
        self.log_path = Path(log_path) if log_path is not None else self.store.with_suffix(".log")
        self.require_key = require_key
        # Off unless asked for: a test that writes into the app's folder should not restart the host under it.
        self.reload = reload
        self.secrets_folder = Path((env or {}).get(SECRETS_PATH_SETTING) or self.store.parent / "secrets")
        self.keys: HostKeys | None = None  # with require_key: the host's keys, read once it has started

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "devhost", "--script-root", str(self.script_root), "--port", str(self.port),
               "--store", str(self.store)]
        if self.time_travel:
            cmd.append("--time-travel")
        if self.require_key:
            cmd.append("--require-key")
        if not self.reload:
            cmd.append("--no-reload")
        return cmd + list(self.extra_args)

    def launch(self) -> "DevhostProcess":
        """Start the process without waiting for it to answer: for tests of the start itself (a start that hangs,
        fails, or is interrupted). start() is launch() and a wait until it answers."""
        env = dict(os.environ, **(self.env or {}))
        env[SECRETS_PATH_SETTING] = str(self.secrets_folder)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent),
                                                          env.get("PYTHONPATH")]))
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env, text=True,
                                        preexec_fn=_die_with_parent)
        log.close()
        return self

    def start(self, timeout: float = 15.0) -> "DevhostProcess":
        """Start the process and wait until it answers (RuntimeError, with its log, if it exits first)."""
        self.launch()

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"devhost exited with {self.process.returncode}:\n{self.log()}")
            try:  # 401: up, and asking for the key
                return self.http.get(self.url("/admin/host/status"), timeout=1).status_code in (200, 401)
            except requests.ConnectionError:
                return False

        poll(ready, timeout, what="devhost to answer")
        if (self.secrets_folder / "host.json").exists():
            self.keys = load_keys(self.secrets_folder)  # written by the host before it listens
            self.use_key(self.keys.master)
        return self

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def _diagnosis(self) -> str:
        return self.log()[-3000:]

    def stop(self, timeout: float = 10.0) -> int | None:
        """Ctrl-C (SIGINT) and wait for a clean exit."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        """SIGKILL: the host dies at once, mid-work."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def raw_history(self, instance_id: str) -> list[dict[str, Any]]:
        """The instance's history as stored (with EventId, TaskScheduledId, TimerId), read from the store file."""
        from devhost.runtime.store.sqlite import read_history

        return read_history(self.store, instance_id)

    def worker_pids(self) -> set[int]:
        """The host's worker processes (Linux /proc; empty when the host is not running): its children that run the
        worker's code. A child that has not yet exec'd the worker is left out: until it does, the host's spawn waits
        for it, so stopping it there would stop the host."""
        pids: set[int] = set()
        if self.process is None or self.process.poll() is not None:
            return pids
        with contextlib.suppress(FileNotFoundError):
            for task in Path(f"/proc/{self.process.pid}/task").iterdir():
                with contextlib.suppress(FileNotFoundError):  # the thread ended meanwhile
                    pids |= {int(p) for p in (task / "children").read_text().split()}
        return {pid for pid in pids if _runs_worker(pid)}

    def kill_workers(self) -> set[int]:
        """SIGKILL every worker process of the host (the host lives on); returns the pids killed."""
        pids = self.worker_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids

    def restart(self) -> "DevhostProcess":
        """Start again on the same store and port."""
        self.stop()
        return self.start()

    @property
    def supports_time_travel(self) -> bool:  # type: ignore[override]
        return self.time_travel

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def close(self) -> None:
        self.stop()
        self.http.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> "DevhostProcess":
        return self if self.running else self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()


class SmallDisk:
    """A small tmpfs mounted on a folder, to give devhost's store a disk that fills up for real (Linux; mounting
    needs root, e.g. in a container). mount() returns False where mounting is not permitted."""

    def __init__(self, folder: str | os.PathLike[str], size: str = "16m") -> None:
        self.folder = Path(folder)
        self.size = size
        self.mounted = False
        self._filler = self.folder / "filler"

    def mount(self) -> bool:
        self.folder.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size}", "tmpfs", str(self.folder)],
                                capture_output=True, text=True)
        self.mounted = result.returncode == 0
        return self.mounted

    def fill(self) -> None:
        """Take every free byte: the next write on this disk fails with ENOSPC."""
        chunk = b"\0" * 65536
        with open(self._filler, "ab", buffering=0) as filler:
            for size in (65536, 4096, 512, 1):
                try:
                    while True:
                        filler.write(chunk[:size])
                except OSError:
                    continue

    def free(self) -> None:
        self._filler.unlink(missing_ok=True)

    def remount(self, read_only: bool) -> None:
        """Make the whole disk read-only or writable again (refused by Linux while a file is open for writing)."""
        subprocess.run(["mount", "-o", f"remount,{'ro' if read_only else 'rw'}", str(self.folder)], check=True,
                       capture_output=True)

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.folder)], capture_output=True)
            self.mounted = False


# -- the replay check ------------------------------------------------------------------------------
def safe_file_name(text: str) -> str:
    """An instance id as a file name: characters other than letters, digits, `-`, `_` and `.` become `_`."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text) or "_"


def replay_histories(app_root: str | os.PathLike[str], *sources: str | os.PathLike[str],
                     status: str | None = None, instance: str | None = None) -> list[dict[str, Any]]:
    """Replay the app's current orchestrator code against the recorded histories of the sources (store files,
    exported JSON files or folders of them, a management API URL), as `python -m devhost replay --json` does, in
    a process of its own (the app's modules are imported fresh, none into the test's process). One dict per
    instance: instanceId, name, events, source, ok, at, recorded, now. AssertionError for a usage error."""
    command = [sys.executable, "-m", "devhost", "replay", "--json", "--script-root", str(app_root)]
    command += [f"--status={status}"] if status else []
    command += [f"--instance={instance}"] if instance else []
    done = subprocess.run(command + ["--", *map(str, sources)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                              filter(None, [str(Path(__file__).resolve().parents[1]),
                                            os.environ.get("PYTHONPATH")]))))
    if done.returncode not in (0, 1):
        raise AssertionError(f"devhost replay could not check: {done.stderr.strip() or done.stdout.strip()}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def assert_replays(app_root: str | os.PathLike[str], *sources: str | os.PathLike[str], **narrow: Any) -> None:
    """Fail (AssertionError listing each divergence) unless every recorded history of the sources replays with
    the app's current code: for a test that guards in-flight instances against an unsafe change."""
    results = replay_histories(app_root, *sources, **narrow)
    diverged = [r for r in results if not r["ok"]]
    lines = [f"diverged {r['instanceId']} {r['name']} at event {r['at']}: the history has {r['recorded']}, the code "
             f"now {r['now']}" for r in diverged]
    if diverged:
        raise AssertionError(f"{len(diverged)} of {len(results)} recorded histories diverge:\n" + "\n".join(lines))


# -- factories: every one hands back a Client (a DevhostProcess is a Client that also owns its process) ---------
def start_local(script_root: str | os.PathLike[str], **options: Any) -> DevhostProcess:
    """devhost on the app at script_root, started in its own process on a free port with a temporary store, in
    real time (supports_time_travel False). Options as DevhostProcess's; close() (or `with`) stops it."""
    return DevhostProcess(script_root, **options).start()


def start_time_travel(script_root: str | os.PathLike[str], **options: Any) -> DevhostProcess:
    """start_local with durable time under the test's control: advance(seconds) fires due timers at once."""
    return start_local(script_root, **dict(options, time_travel=True))


def from_url(base_url: str, key: str | None = None) -> Client:
    """A host that is already running (`func start`, a devhost of yours): the same client, without time travel."""
    return Client(base_url, key=key)


def from_environment(script_root: str | os.PathLike[str]) -> Client:
    """The host at $DEVHOST_E2E_BASE_URL (with $DEVHOST_E2E_KEY) when it is set, else start_time_travel()."""
    remote = os.environ.get(BASE_URL_ENV)
    return from_url(remote, os.environ.get(KEY_ENV)) if remote else start_time_travel(script_root)


# -- pytest fixtures ------------------------------------------------------------------------------
try:
    import pytest
except ImportError:  # the harness works without pytest too
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def app_root() -> Path:
        """The script root of the app under test (override this fixture, in any scope, in your conftest.py);
        default: $DEVHOST_SCRIPT_ROOT, else the current directory."""
        return Path(os.environ.get("DEVHOST_SCRIPT_ROOT", ".")).resolve()

    @pytest.fixture(scope="session")
    def devhost_pool() -> Iterator[dict[Path, DevhostProcess]]:
        """The devhost processes `devhost` started, one per app root, shared by the session's tests."""
        pool: dict[Path, DevhostProcess] = {}
        yield pool
        for host in pool.values():
            host.close()

    @pytest.fixture
    def devhost(app_root: str | os.PathLike[str], devhost_pool: dict[Path, DevhostProcess]) -> Client:
        """A running host for the app at app_root: devhost in its own process (time travel on; started once per
        app root and session), or the host at $DEVHOST_E2E_BASE_URL."""
        if os.environ.get(BASE_URL_ENV):
            return from_environment(app_root)
        root = Path(app_root).resolve()
        if root not in devhost_pool:
            devhost_pool[root] = start_time_travel(root)
        return devhost_pool[root]

    @pytest.fixture
    def devhost_factory(tmp_path: Path) -> Iterator[Callable[..., DevhostProcess]]:
        """Make devhost processes of your own (other apps, shared stores, kill and restart); all are stopped after."""
        made: list[DevhostProcess] = []

        def make(script_root: str | os.PathLike[str], **kwargs: Any) -> DevhostProcess:
            kwargs.setdefault("store", tmp_path / f"store{len(made)}.sqlite")
            host = DevhostProcess(script_root, **kwargs)
            made.append(host)
            return host

        yield make
        for host in made:
            host.close()

    def app_host(app_root: str | os.PathLike[str], **options: Any) -> Any:
        """A module-scoped fixture running the app at app_root in its own devhost (time travel on), for the
        tests of one example app:  host = app_host(APP). Skipped against a remote host."""

        @pytest.fixture(scope="module")
        def host() -> Iterator[DevhostProcess]:
            if os.environ.get(BASE_URL_ENV):
                pytest.skip("runs its own example app")
            options.setdefault("time_travel", True)
            with start_local(app_root, **options) as running:
                yield running

        return host

    @pytest.fixture
    def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
        """A 16 MB tmpfs at tmp_path/disk (SmallDisk), unmounted after the test; skips where mount is refused."""
        disk = SmallDisk(tmp_path / "disk")
        if not disk.mount():
            pytest.skip("cannot mount a tmpfs here (needs root)")
        try:
            yield disk
        finally:
            disk.unmount()

    @pytest.fixture
    def local_only() -> None:
        """Skip a test when running against a remote host (it needs to kill or configure devhost)."""
        if os.environ.get(BASE_URL_ENV):
            pytest.skip("needs a devhost process of its own")

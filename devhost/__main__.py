"""`python -m devhost` (or `devhost` once pip-installed): run a Python Durable Functions app, folder-per-function
or v2 (function_app.py), locally, as `func start` would. `python -m devhost replay ...` checks the app's current
orchestrator code against recorded histories instead (devhost/replay_check/)."""
from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
from pathlib import Path

from devhost.app.config import DEFAULT_WORKER_START_TIMEOUT, WORKER_START_TIMEOUT_SETTING
from devhost.errors import DevhostError
from devhost.host import Host, HostOptions
from devhost.workers import selector


def _seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return seconds


def _command() -> str:
    return "devhost" if Path(sys.argv[0]).name == "devhost" else "python -m devhost"


def parse_args(argv: list[str] | None = None) -> HostOptions:
    command = _command()
    parser = argparse.ArgumentParser(prog=command, description=__doc__,
                                     epilog="subcommands: replay (check the code against recorded histories: "
                                            f"{command} replay --help)")
    parser.add_argument("--script-root", default=".", help="the app's folder (with host.json); default: .")
    parser.add_argument("--port", "-p", type=int, default=None,
                        help="HTTP port; default: Host.LocalHttpPort of local.settings.json, else 7071")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind; default: 127.0.0.1 (loopback)")
    parser.add_argument("--store", default=None,
                        help="SQLite store file; default: <script-root>/.devhost/store.sqlite")
    parser.add_argument("--durability", choices=("normal", "full"), default="normal",
                        help="normal: survives a killed process (SQLite WAL, synchronous=NORMAL); "
                             "full: also survives power loss (synchronous=FULL), slower")
    parser.add_argument("--time-travel", action="store_true",
                        help="allow POST /admin/devhost/advance?seconds=N to make durable timers due at once "
                             "(for tests)")
    parser.add_argument("--verbose", action="store_true", help="log every function execution")
    parser.add_argument("--reload", action=argparse.BooleanOptionalAction, default=True,
                        help="restart when a function's code or function.json, host.json or local.settings.json "
                             "changes, as the Functions host does (default: on; off with --in-process)")
    parser.add_argument("--poll-us", type=int, default=selector.DEFAULT_WINDOW_US, metavar="N",
                        help="while a worker call is in flight, poll N microseconds for its answer before the event "
                             f"loop sleeps (0: off); default: {selector.DEFAULT_WINDOW_US}")
    parser.add_argument("--worker-start-timeout", type=_seconds, default=None, metavar="SECONDS",
                        help="how long a worker process may take to import the app and say hello; the first one past "
                             "it stops devhost with the file it was importing, a later one is killed and replaced; "
                             f"default: ${WORKER_START_TIMEOUT_SETTING}, else {DEFAULT_WORKER_START_TIMEOUT:g}")
    parser.add_argument("--in-process", action="store_true",
                        help="run the app's code in the host process instead of a separate worker process "
                             "(one process to debug; slower under load)")
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="also serve requests whose Host header is NAME (repeatable; '*' turns the check off); "
                             "by default only localhost, 127.0.0.1, [::1] and the --host address are served")
    parser.add_argument("--cors", action="append", default=[], metavar="ORIGINS",
                        help="comma-separated origins (e.g. https://x.example) that get CORS headers and may make "
                             "changes through the management API (repeatable; '*' for any); as `func start --cors`")
    parser.add_argument("--cors-credentials", action="store_true",
                        help="send Access-Control-Allow-Credentials: true to the --cors origins")
    parser.add_argument("--require-key", "--enableAuth", dest="require_key", action=argparse.BooleanOptionalAction,
                        default=None,
                        help="require keys (code= or x-functions-key) on the management API, the dashboard and HTTP "
                             "functions by authLevel, as Azure does (`func start --enableAuth`); default: on when "
                             "--host is not loopback")
    args = parser.parse_args(argv)
    return HostOptions(script_root=args.script_root, port=args.port, host=args.host, store=args.store,
                       durability=args.durability, time_travel=args.time_travel, verbose=args.verbose,
                       in_process=args.in_process, allow_hosts=tuple(args.allow_host),
                       cors=tuple(o for value in args.cors for o in value.split(",") if o.strip()),
                       cors_credentials=args.cors_credentials, require_key=args.require_key,
                       poll_us=args.poll_us, reload=args.reload, worker_start_timeout=args.worker_start_timeout)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["replay"]:
        from devhost.replay_check import cli  # only the check imports the app in this process

        return cli.main(args[1:], f"{_command()} replay")
    return serve(args)


def serve(argv: list[str]) -> int:
    """Run the host until it is stopped."""
    options = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if options.verbose else logging.INFO,
                        format="[%(asctime)s] %(message)s", stream=sys.stdout)
    logging.getLogger("aiohttp").setLevel(logging.WARNING)
    try:
        environment = dict(os.environ)  # before local.settings.json's Values are applied
        while True:  # a change of the app's files ends one Host; the next one reads everything again
            os.environ.clear()
            os.environ.update(environment)
            host = Host(options)
            if not selector.run(host.serve_forever(), host.poller):
                break
    except DevhostError as exc:
        print(f"devhost: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"devhost: cannot start: {exc}", file=sys.stderr)
        if exc.errno == errno.EADDRINUSE:
            print("devhost: func start, another devhost or an earlier F5 session holds the port: stop it, or serve "
                  "on another port (make run ARGS=\"--port 7072\"; beside another devhost of this folder also "
                  "--store .devhost/second.sqlite)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

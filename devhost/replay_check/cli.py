"""`python -m devhost replay [--script-root DIR] SOURCE...`: is the app's current code safe for the instances in
flight? One line per instance (ok, or diverged at which event and how), then a summary. Exit 0 when every
history replays, 1 when any diverged, 2 for a usage error (a source that cannot be read, an orchestrator the app
no longer has)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from devhost.errors import DevhostError
from devhost.replay_check.checker import App, Verdict, check
from devhost.replay_check.sources import parse_statuses, read

OK, DIVERGED, USAGE = 0, 1, 2


def parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__)
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="a devhost store file, a JSON file (or a folder of them) exported from a status answer "
                        "with showHistory=true&showHistoryOutput=true&showInput=true, or the base URL of a running "
                        "host's management API (.../runtime/webhooks/durabletask?code=KEY)")
    p.add_argument("--script-root", default=".", help="the app's folder (with host.json); default: .")
    p.add_argument("--instance", default=None, metavar="ID", help="check this instance only")
    p.add_argument("--status", default=None, metavar="STATUSES",
                   help="comma-separated runtime statuses to check; default: every status in files, "
                        "Running,Pending,Suspended from a URL")
    p.add_argument("--json", action="store_true", help="one JSON object per instance instead of the lines")
    return p


def verdicts(script_root: str | Path, sources: list[str], statuses: str | None = None,
             instance_id: str | None = None) -> list[Verdict]:
    """Every recorded instance of the sources replayed with the app's code (DevhostError for a usage error)."""
    wanted = parse_statuses(statuses) if statuses else None
    recorded = [r for source in sources for r in read(source, wanted, instance_id)]
    app = App(script_root)
    return [check(app, r) for r in recorded]


def summary(results: list[Verdict]) -> str:
    diverged = sum(not v.ok for v in results)
    if not results:
        return "no instance to check"
    return (f"{len(results)} instance{'s' if len(results) != 1 else ''} checked: {len(results) - diverged} replay, "
            f"{diverged} diverged")


def main(argv: list[str], prog: str = "python -m devhost replay") -> int:
    args = parser(prog).parse_args(argv)
    if not Path(args.script_root, "host.json").is_file():
        print(f"devhost replay: {args.script_root} has no host.json: pass the app's folder with --script-root",
              file=sys.stderr)
        return USAGE
    try:
        results = verdicts(args.script_root, args.sources, args.status, args.instance)
    except DevhostError as exc:
        print(f"devhost replay: {exc}", file=sys.stderr)
        return USAGE
    for verdict in results:
        print(json.dumps(verdict.as_json()) if args.json else verdict.line(), flush=True)
    if not args.json:
        print(summary(results))
    return DIVERGED if any(not v.ok for v in results) else OK

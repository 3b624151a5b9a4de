"""Which of the app's files changed, for reload on change as the Functions host restarts on a file change: every
`*.py` and `function.json`, host.json and local.settings.json under the script root, less what publishing leaves
out (.funcignore, matched as Core Tools matches it: a pattern against each leading part of the path), hidden
folders, virtual environments and caches. Scanning is cheap (stat calls); the host does it about twice a second."""
from __future__ import annotations

import fnmatch
import os
from pathlib import Path

SETTINGS = ("host.json", "local.settings.json")
NEVER = frozenset({"__pycache__", "node_modules", ".devhost"})  # never app code, whatever .funcignore says

Snapshot = dict[str, tuple[int, int]]  # path relative to the script root -> (mtime in ns, size)


def ignore_patterns(root: Path) -> list[str]:
    """The .funcignore patterns of the app (comments and blank lines dropped, trailing slashes too)."""
    try:
        lines = (root / ".funcignore").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.lstrip().startswith("#")]


def ignored(relative: str, patterns: list[str]) -> bool:
    """True when a pattern matches the path or one of its leading folders ("tests" leaves out tests/a/b.py)."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatchcase(prefix, pattern) for pattern in patterns for prefix in prefixes)


def _watched(name: str) -> bool:
    return name.endswith(".py") or name == "function.json" or name in SETTINGS


def snapshot(root: Path) -> Snapshot:
    """(mtime, size) of every watched file under the script root."""
    patterns = ignore_patterns(root)  # host.json and local.settings.json count even when left out of publishing
    found: Snapshot = {}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            relative = Path(entry.path).relative_to(root).as_posix()
            if entry.is_dir(follow_symlinks=False):
                if entry.name.startswith(".") or entry.name in NEVER or ignored(relative, patterns) \
                        or os.path.exists(os.path.join(entry.path, "pyvenv.cfg")):
                    continue
                stack.append(Path(entry.path))
            elif _watched(entry.name):
                if ignored(relative, patterns) and relative not in SETTINGS:
                    continue
                try:
                    stat = entry.stat()
                except OSError:
                    continue
                found[relative] = (stat.st_mtime_ns, stat.st_size)
    return found


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """The files added, removed or changed between two snapshots, sorted."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def describe(changed: list[str]) -> str:
    """The changed files in a few words for the one log line: "Hello/__init__.py", "a.py and 2 more"."""
    if len(changed) == 1:
        return changed[0]
    return f"{changed[0]} and {len(changed) - 1} more"

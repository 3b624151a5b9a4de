"""Checks that .funcignore leaves exactly the deployable files in the publish package.

Two matchers read the same .funcignore: git's rules (through `pathspec`), and a small model of
Core Tools' matcher, which anchors each pattern at the project root and matches it as a prefix.
"""

import os
import re
from pathlib import Path

import pathspec
import pytest

ROOT = Path(__file__).resolve().parents[2]

DEPLOYABLE = {
    "HelloOrchestrator/__init__.py", "HelloOrchestrator/function.json",
    "Hello/__init__.py", "Hello/function.json",
    "DurableFunctionsHttpStart/__init__.py", "DurableFunctionsHttpStart/function.json",
    "host.json", "requirements.txt",
}

# Files a working tree may hold beyond what git tracks; all of them must stay out.
REPRESENTATIVE = {
    ".venv/pyvenv.cfg", ".venv/lib/python3.11/site-packages/azure/functions/__init__.py",
    ".devhost/store.sqlite", ".devhost/store.sqlite-wal",
    "devhost/__init__.py", "devhost/protocol/engine.py", "benchmarks/bench.py", "tools/mutate.py",
    "tests/e2e/x.py", "tests/devhost/fixtures/apps/x/function.json", "tests/conftest.py",
    "bench/x.py", "bench.json", ".benchmarks/Linux-CPython/0001.json",
    "__azurite_db_queue__.json", "__azurite_db_blob_extent__.json",
    "__blobstorage__/x", "__queuestorage__/x",
    "__pycache__/x.cpython-311.pyc", "Hello/__pycache__/__init__.cpython-311.pyc",
    "HelloOrchestrator/__init__.pyc", ".pytest_cache/v/cache/nodeids",
    ".git/HEAD", ".gitignore", ".github/workflows/ci.yml", ".funcignore",
    ".vscode/launch.json", "local.settings.json",
    ".ci/run", "Makefile", "README.md", "pytest.ini", "docs/devhost.md", "docs/harness.md",
    # devhost's packaging, and what `pip install .` or `python -m build` leave in the project
    "pyproject.toml", "build/lib/devhost/host.py", "dist/devhost-0.1.0-py3-none-any.whl",
    "devhost.egg-info/PKG-INFO",
}

# Core Tools never packages these, whatever .funcignore says.
CORE_TOOLS_SKIPPED_DIRS = (".git/", ".vscode/")
CORE_TOOLS_SKIPPED_FILES = {".funcignore", ".gitignore", "local.settings.json",
                            "project.lock.json", "appsettings.json"}


def funcignore_lines():
    return (ROOT / ".funcignore").read_text(encoding="utf-8").splitlines()


def files_on_disk():
    """Every file under the project, relative and '/'-separated, as a publish walk sees them."""
    found = set()
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not (folder == str(ROOT) and d == ".git")]
        rel = Path(folder).relative_to(ROOT)
        # In a git worktree .git is a file (a link to the repository); it is version control either way.
        found |= {(rel / f).as_posix() for f in files if not (folder == str(ROOT) and f == ".git")}
    return found


def candidates():
    return files_on_disk() | REPRESENTATIVE


def git_included(paths):
    spec = pathspec.GitIgnoreSpec.from_lines(funcignore_lines())
    return {p for p in paths if not spec.match_file(p)}


def core_tools_pattern(line):
    """One .funcignore line as Core Tools compiles it: escaped, '**' -> '.+', '*' -> '[^/]+'."""
    escaped = re.sub(r"[-\[\]/{}()+?.\\^$|]", lambda m: "\\" + m.group(0), line.removeprefix("/"))
    return escaped.replace("**", "(.+)").replace("*", "([^/]+)")


def core_tools_included(paths, lines=None):
    lines = [l.strip() for l in (funcignore_lines() if lines is None else lines)]
    assert not any(l.startswith("!") for l in lines), "negations are not modelled here"
    patterns = [core_tools_pattern(l) for l in lines if l and not l.startswith("#")]
    denies = re.compile("^((" + ")|(".join(patterns) + "))")
    return {p for p in paths
            if not p.startswith(CORE_TOOLS_SKIPPED_DIRS)
            and p not in CORE_TOOLS_SKIPPED_FILES
            and not denies.match(p)}


@pytest.mark.parametrize("included", [git_included, core_tools_included])
def test_the_package_holds_exactly_the_deployable_files(included):
    assert included(candidates()) == DEPLOYABLE


@pytest.mark.parametrize("path", sorted(REPRESENTATIVE))
def test_local_only_files_are_left_out(path):
    assert git_included({path}) == set()
    assert core_tools_included({path}) == set()


def test_core_tools_model_anchors_patterns_at_the_root():
    """Why .funcignore repeats cache patterns with `**/`: a bare name only matches at the root.

    A pattern is also a plain prefix there: `tests` drops `testsuite.py` too.
    """
    paths = {"__pycache__/a.pyc", "Hello/__pycache__/a.pyc", "devhost/x.py", "testsuite.py"}
    assert core_tools_included(paths, ["__pycache__", "/devhost/", "tests"]) == {
        "Hello/__pycache__/a.pyc"}
    assert git_included({"Hello/__pycache__/a.pyc"}) == set()


def test_devhost_is_excluded_by_name():
    assert {"devhost/", "/devhost/"} & {l.strip() for l in funcignore_lines()}


def test_every_deployable_file_exists():
    assert all((ROOT / p).is_file() for p in DEPLOYABLE)

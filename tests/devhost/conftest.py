"""Fixtures shared by devhost's own tests: fixture apps, import isolation for the loader, and a store in tmp_path."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

from devhost.runtime.store.sqlite import SqliteStore

FIXTURE_APPS = Path(__file__).resolve().parent / "fixtures" / "apps"


@pytest.fixture
def fixture_apps() -> Path:
    """The folder of small Functions apps made for devhost's edge cases."""
    return FIXTURE_APPS


@pytest.fixture
def isolated_imports() -> Iterator[None]:
    """Undo what loading an app does to the interpreter: script roots on sys.path, __app__ modules and the
    top-level modules a v2 app imports from its root."""
    def app_modules() -> dict[str, object]:
        return {n: m for n, m in sys.modules.items() if n == "__app__" or n.startswith("__app__.")}

    saved_path, saved_modules, before = list(sys.path), app_modules(), set(sys.modules)
    yield
    added_roots = [Path(p).resolve() for p in sys.path if p not in saved_path]
    for name in set(sys.modules) - before:  # a v2 app's function_app and blueprint modules are top-level
        file = getattr(sys.modules[name], "__file__", None)
        if file and any(root in Path(file).resolve().parents for root in added_roots):
            del sys.modules[name]
    sys.path[:] = saved_path
    for name in app_modules():
        del sys.modules[name]
    sys.modules.update(saved_modules)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """A devhost store on a real SQLite file in tmp_path, closed after the test."""
    s = SqliteStore(tmp_path / "store.sqlite")
    yield s
    s.close()

"""Fixtures shared by devhost's own tests: fixture apps, import isolation for the loader, and a store in tmp_path."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

from devhost.store import Store

FIXTURE_APPS = Path(__file__).resolve().parent / "fixtures" / "apps"


@pytest.fixture
def fixture_apps() -> Path:
    """The folder of small Functions apps made for devhost's edge cases."""
    return FIXTURE_APPS


@pytest.fixture
def isolated_imports() -> Iterator[None]:
    """Undo what loading an app does to the interpreter: script roots on sys.path and __app__ modules."""
    def app_modules() -> dict[str, object]:
        return {n: m for n, m in sys.modules.items() if n == "__app__" or n.startswith("__app__.")}

    saved_path, saved_modules = list(sys.path), app_modules()
    yield
    sys.path[:] = saved_path
    for name in app_modules():
        del sys.modules[name]
    sys.modules.update(saved_modules)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A devhost store on a real SQLite file in tmp_path, closed after the test."""
    s = Store(tmp_path / "store.sqlite")
    yield s
    s.close()

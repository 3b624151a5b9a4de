"""Where the store is chosen: each backend by name, and the one devhost opens. A second backend is one module that
passes tests/devhost/runtime/store/test_contract.py, plus its line here."""
from __future__ import annotations

import os
from typing import Callable

from devhost.runtime.store.contract import Store
from devhost.runtime.store.sqlite import SqliteStore

# name -> how to open a store at a path with a durability ("normal" or "full")
BACKENDS: dict[str, Callable[[str | os.PathLike[str], str], Store]] = {
    "sqlite": SqliteStore,
}
DEFAULT = "sqlite"


def open_store(path: str | os.PathLike[str], durability: str = "normal", backend: str = DEFAULT) -> Store:
    """Open (creating when missing) the store at `path` with the named backend."""
    return BACKENDS[backend](path, durability)

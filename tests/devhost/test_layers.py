"""The layer rules of the devhost package (each subpackage's docstring states them): read from every source file's
syntax tree, so imports inside functions count too. A module may import its own subpackage and the layers below
it; none imports a layer above or beside it, and no import runs in a circle."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import devhost

PACKAGE = Path(devhost.__file__).resolve().parent
FOUNDATION = {"devhost.errors", "devhost.clock", "devhost.model", "devhost.jsontext", "devhost.malloc",
              "devhost.tracebacks"}
# Each layer and the layers it may import (the foundation is below all of them).
MAY_IMPORT = {
    "devhost.protocol": set(),
    "devhost.app": set(),
    "devhost.workers": {"devhost.app"},
    "devhost.runtime": {"devhost.protocol", "devhost.app"},
    "devhost.web": {"devhost.protocol", "devhost.app", "devhost.runtime"},
    # the replay check sits above the layers, as host.py does, but serves nothing and runs no worker
    "devhost.replay_check": {"devhost.protocol", "devhost.app", "devhost.runtime"},
}
TOP = {"devhost", "devhost.__main__", "devhost.host", "devhost.testing"}  # they wire the layers: anything goes
# Who may import what from outside: SQL in the store alone, the web server in the web layer and the wiring.
ONLY = {"sqlite3": ("devhost.runtime.store.sqlite",), "aiohttp.web": ("devhost.web.", "devhost.host")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, source: str | None = None) -> set[str]:
    """The full dotted names a file imports, relative imports resolved, wherever the statement is."""
    me = module_name(path).split(".")
    package = me if path.name == "__init__.py" else me[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source if source is not None else path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}  # `from devhost.protocol import engine`
    return names


SOURCES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> str:
    if module in FOUNDATION or module in TOP:
        return module
    return ".".join(module.split(".")[:2])


def internal(module: str) -> set[str]:
    """The devhost modules it imports; packages (whose __init__ holds only a docstring) are not counted."""
    return {name for name in imports(SOURCES[module])
            if name in SOURCES and SOURCES[name].name != "__init__.py" and name != module}


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_each_module_imports_only_its_own_layer_and_those_below(module):
    layer = layer_of(module)
    if layer in TOP:
        return
    allowed = FOUNDATION | {layer} | MAY_IMPORT.get(layer, set())
    wrong = sorted(name for name in internal(module) if layer_of(name) not in allowed and name not in allowed)

    assert wrong == [], f"{module} ({layer}) imports {wrong}"


def test_every_module_belongs_to_a_known_layer():
    unknown = sorted(m for m in SOURCES if layer_of(m) not in TOP | FOUNDATION | set(MAY_IMPORT))

    assert unknown == []


def test_no_import_runs_in_a_circle():
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for name in sorted(internal(module)):
            assert state.get(name) != "open", "a circle: " + " -> ".join(path + [name])
            if name not in state:
                visit(name, path + [name])
        state[module] = "done"

    for module in SOURCES:
        if module not in state:
            visit(module, [module])
    assert len(state) == len(SOURCES)


@pytest.mark.parametrize("outside", sorted(ONLY))
def test_sql_and_the_web_server_stay_in_their_modules(outside):
    users = sorted(m for m, p in SOURCES.items() if outside in imports(p) or any(
        n.startswith(outside + ".") for n in imports(p)))

    assert [m for m in users if not m.startswith(ONLY[outside])] == []
    assert users, f"nothing imports {outside}: the rule is stale"


def test_imports_sees_every_form_of_import():
    source = "import os, sqlite3 as db\nfrom json import loads\ndef f():\n    from . import dispatcher\n" \
             "    from ..protocol.engine import decide\n    import urllib.parse\n"

    found = imports(PACKAGE / "runtime" / "example.py", source)

    assert {"os", "sqlite3", "json", "urllib.parse", "devhost.runtime.dispatcher",
            "devhost.protocol.engine"} <= found

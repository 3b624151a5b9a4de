"""Finds the app's functions (function.json per folder) and imports their entry points as the Python worker does."""
from __future__ import annotations

import importlib
import json
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from devhost.app.signatures import check_spec
from devhost.errors import ConfigError
from devhost.model import Binding, FunctionSpec
from devhost.tracebacks import exception_text, user_frame

APP_PACKAGE = "__app__"  # the worker imports function folders as __app__.<Folder>
# Told (function name or None for a v2 script, file) just before the app's code is imported: a worker passes it on
# to the host, so that an import that never returns can be named.
ImportHook = Callable[[str | None, str], None]


def ignore_imports(name: str | None, path: str) -> None:
    """The ImportHook of a load nobody watches (the host's own --in-process load, tests)."""


@dataclass(frozen=True)
class LoadedFunction:
    """A function spec with its imported entry point."""

    spec: FunctionSpec
    main: Callable[..., Any]


@dataclass(frozen=True)
class LoadReport:
    """What loading the script root found: runnable functions and the ones devhost reports and skips."""

    functions: dict[str, LoadedFunction]
    skipped: list[tuple[str, str]]  # (function name, reason)


def read_bindings(raw: list[Any], where: str) -> tuple[Binding, ...]:
    """function.json-shaped binding dicts as Bindings (direction lower-cased: the host reads it either way)."""
    bindings = []
    for b in raw:
        if not isinstance(b, dict) or not b.get("type") or not b.get("name"):
            raise ConfigError(f"{where}: every binding needs 'type' and 'name'")
        bindings.append(Binding(name=str(b["name"]), type=str(b["type"]),
                                direction=str(b.get("direction") or "in").lower(), raw=b))
    return tuple(bindings)


def read_spec(folder: Path) -> FunctionSpec:
    """Parse <folder>/function.json into a FunctionSpec."""
    path = folder / "function.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("bindings"), list):
        raise ConfigError(f"{path}: 'bindings' must be a list")
    return FunctionSpec(
        name=folder.name,
        directory=str(folder),
        script_file=str(raw.get("scriptFile") or "__init__.py"),
        entry_point=str(raw.get("entryPoint") or "main"),
        bindings=read_bindings(raw["bindings"], str(path)),
        disabled=bool(raw.get("disabled", False)),
    )


def _ensure_app_package(root: Path) -> None:
    """Register __app__ as a package rooted at the script root; put the root on sys.path."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    existing = sys.modules.get(APP_PACKAGE)
    if existing is not None and list(getattr(existing, "__path__", [])) == [str(root)]:
        return
    pkg = types.ModuleType(APP_PACKAGE)
    pkg.__path__ = [str(root)]  # type: ignore[attr-defined]
    sys.modules[APP_PACKAGE] = pkg


def import_entry_point(root: Path, spec: FunctionSpec) -> Callable[..., Any]:
    """Import spec's scriptFile as __app__.<Folder>[.<module>] and return its entry point."""
    script = (Path(spec.directory) / spec.script_file).resolve()
    try:
        rel = script.relative_to(root)
    except ValueError as exc:
        raise ConfigError(f"{spec.name}: scriptFile {spec.script_file} is outside the script root") from exc
    if not script.exists():
        raise ConfigError(f"{spec.name}: scriptFile {spec.script_file} not found")
    parts = rel.parent.parts if rel.name == "__init__.py" else rel.parent.parts + (rel.stem,)
    module = importlib.import_module(".".join((APP_PACKAGE,) + parts))
    main = getattr(module, spec.entry_point, None)
    if not callable(main):
        raise ConfigError(f"{spec.name}: entry point '{spec.entry_point}' not found in {spec.script_file}")
    return main


def scan_specs(script_root: str | Path) -> tuple[list[FunctionSpec], list[tuple[str, str]]]:
    """Read every <folder>/function.json under script_root without importing anything: the runnable specs,
    and (name, reason) for the ones devhost reports and skips (broken, disabled, unsupported bindings)."""
    root = Path(script_root).resolve()
    specs: list[FunctionSpec] = []
    skipped: list[tuple[str, str]] = []
    for folder in sorted(p for p in root.iterdir() if (p / "function.json").is_file()):
        try:
            spec = read_spec(folder)
        except ConfigError as exc:
            skipped.append((folder.name, str(exc)))
            continue
        if spec.disabled:
            skipped.append((spec.name, "disabled"))
            continue
        if spec.unfireable:
            skipped.append((spec.name, spec.unfireable))
            continue
        specs.append(spec)
    return specs, skipped


def load_folders(script_root: str | Path, on_import: ImportHook = ignore_imports) -> LoadReport:
    """Load every <folder>/function.json under script_root and import its entry point (the folder model), telling
    on_import which one before each import."""
    root = Path(script_root).resolve()
    _ensure_app_package(root)
    specs, skipped = scan_specs(root)
    functions: dict[str, LoadedFunction] = {}
    for spec in specs:
        try:
            on_import(spec.name, str(Path(spec.directory) / spec.script_file))
            main = import_entry_point(root, spec)
            check_spec(spec, main)  # the worker's load-time check: this function alone fails to load
        except Exception as exc:  # user code failing at import is reported, the others run
            skipped.append((spec.name, load_failure(exc, root)))
            continue
        functions[spec.name] = LoadedFunction(spec, main)
    return LoadReport(functions=functions, skipped=skipped)


def load_failure(exc: BaseException, root: Path, verb: str = "load") -> str:
    """Why user code failed to import, for the banner and the console: the exception, the user's own line, and
    for a package that is not installed, which interpreter lacks it and how to install the app's requirements."""
    text = f"failed to {verb}: {type(exc).__name__}: {exc}"
    frame = user_frame(exception_text(exc))
    if frame is not None:
        text += f" (at {frame.shown(root)})"
    missing = exc.name if isinstance(exc, ModuleNotFoundError) else None
    top = (missing or "").split(".")[0]
    if top and top != APP_PACKAGE and not (root / top).exists() and not (root / f"{top}.py").exists():
        requirements = root / "requirements.txt"
        install = f"-r {requirements}" if requirements.is_file() else top
        text += (f". The interpreter {sys.executable} has no module '{top}': install the app's packages with "
                 f"`{sys.executable} -m pip install {install}`")
    return text


def binding_notes(spec: FunctionSpec) -> list[str]:
    """One warning per binding devhost accepts without serving it: outputs it drops, inputs it feeds None."""
    notes = [f"WARNING: output binding '{b.name}' ({b.type}) is accepted and dropped: devhost cannot deliver it"
             for b in spec.dropped_outputs]
    notes += [f"WARNING: input binding '{b.name}' ({b.type}) gets None: devhost has no data for it"
              for b in spec.unfed_inputs]
    return notes

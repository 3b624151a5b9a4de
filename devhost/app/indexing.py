"""Indexes a v2 (decorator) app as the Python worker does: imports function_app.py (or the script the
PYTHON_SCRIPT_FILE_NAME setting names), takes its one FunctionApp/DFApp and reads each function's name, user
function and bindings through azure.functions' own Function objects."""
from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from devhost.app.loader import ImportHook, LoadedFunction, LoadReport, ignore_imports, load_failure, read_bindings
from devhost.app.signatures import check_signature
from devhost.model import FunctionSpec

SCRIPT_SETTING = "PYTHON_SCRIPT_FILE_NAME"
DEFAULT_SCRIPT = "function_app.py"


def script_file_name() -> str:
    """The v2 script's file name: the PYTHON_SCRIPT_FILE_NAME app setting, else function_app.py."""
    return os.environ.get(SCRIPT_SETTING) or DEFAULT_SCRIPT


def _import_script(root: Path, script: str) -> Any:
    """Import the script as a top-level module with the script root on sys.path, as the worker does."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    name = Path(script).stem
    cached = sys.modules.get(name)
    if cached is not None and Path(getattr(cached, "__file__", "") or "").resolve() != (root / script).resolve():
        del sys.modules[name]  # another app's script of the same name (devhost's own tests load several)
    return importlib.import_module(name)


def find_app(module: Any, script: str) -> Any:
    """The module's one top-level FunctionRegister (FunctionApp, DFApp...); the worker's errors otherwise."""
    from azure.functions import FunctionRegister

    apps = [value for value in vars(module).values() if isinstance(value, FunctionRegister)]
    if len({id(a) for a in apps}) > 1:
        raise ValueError(f"More than one {type(apps[0]).__name__} or other top level function app instances "
                         "are defined.")
    if not apps:
        raise ValueError(f"Could not find top level function app instances in {script}.")
    return apps[0]


def spec_of(function: Any, root: Path) -> FunctionSpec:
    """A FunctionSpec from an azure.functions Function: its name (function_name renames included) and the
    binding descriptions azure.functions wrote for it."""
    name = function.get_function_name()
    bindings = read_bindings([json.loads(raw) for raw in function.get_raw_bindings()], f"function {name}")
    return FunctionSpec(name=name, directory=str(root), script_file=function.function_script_file,
                        entry_point=function.get_user_function().__name__, bindings=bindings)


def index_app(script_root: str | Path, on_import: ImportHook = ignore_imports) -> LoadReport | None:
    """Index the v2 script under script_root; None when there is none or it declares no function (the worker
    then lets the host read function.json folders). A script that fails to import or index loads nothing and
    says why, as the worker's failed metadata request does."""
    root = Path(script_root).resolve()
    script = script_file_name()
    if not (root / script).is_file():
        return None
    try:
        on_import(None, str(root / script))
        functions = find_app(_import_script(root, script), script).get_functions()
    except Exception as exc:  # user code failing at import is reported, never a crash of the host
        return LoadReport(functions={}, skipped=[(script, load_failure(exc, root, "index"))])
    if not functions:
        return None
    try:  # the worker checks every function as it indexes them: one mismatch fails the whole app's indexing
        for function in functions:
            check_signature(function.get_function_name(), function.get_user_function(),
                            read_bindings([json.loads(raw) for raw in function.get_raw_bindings()], "function"))
    except Exception as exc:
        return LoadReport(functions={}, skipped=[(script, load_failure(exc, root, "index"))])
    loaded: dict[str, LoadedFunction] = {}
    skipped: list[tuple[str, str]] = []
    for function in functions:
        try:
            spec = spec_of(function, root)
        except Exception as exc:
            skipped.append((str(function.get_function_name()), f"failed to load: {exc}"))
            continue
        if spec.unfireable:
            skipped.append((spec.name, spec.unfireable))
        else:
            loaded[spec.name] = LoadedFunction(spec, function.get_user_function())
    return LoadReport(functions=loaded, skipped=skipped)


def nothing_loaded(script_root: str | Path, skipped: list[tuple[str, str]]) -> str:
    """Why a start-up loaded no function, for the banner."""
    root = Path(script_root).resolve()
    script = script_file_name()
    if skipped:
        return "every function found is listed as not loaded above"
    if (root / script).is_file():
        return f"{script} declares no function and no folder under {root} has a function.json"
    return (f"{root} has neither {script} (the v2 model; the {SCRIPT_SETTING} setting names another script) "
            "nor folders with a function.json (the folder model)")

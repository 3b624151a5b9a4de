"""A v2 example app's functions by name, taken from its FunctionApp/DFApp through azure.functions (as the worker
indexes them), for replaying its orchestrators and calling its activities without a host."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any, Callable

from azure.functions import FunctionRegister

APPS = Path(__file__).resolve().parents[1] / "apps"


def v2_functions(app: str) -> dict[str, Callable[..., Any]]:
    """{function name: user function} of tests/apps/<app>/function_app.py, imported under a name of its own so
    that several v2 apps (each with a function_app.py) can be loaded in one test session."""
    root = APPS / app
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # its Blueprint modules import from the app's root, as in the worker
    spec = importlib.util.spec_from_file_location(f"{app}_function_app", root / "function_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    [register] = [v for v in vars(module).values() if isinstance(v, FunctionRegister)]
    return {f.get_function_name(): f.get_user_function() for f in register.get_functions()}

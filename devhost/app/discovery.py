"""Which programming model an app uses, decided as the Python worker decides it: a v2 script that declares
functions (indexing), else a function.json per folder (loader)."""
from __future__ import annotations

from pathlib import Path

from devhost.app.indexing import index_app
from devhost.app.loader import ImportHook, LoadReport, ignore_imports, load_folders


def load_functions(script_root: str | Path, on_import: ImportHook = ignore_imports) -> LoadReport:
    """Load the app as the Python worker does: index function_app.py (or the PYTHON_SCRIPT_FILE_NAME script) when
    it exists and declares functions, else every <folder>/function.json; report functions devhost cannot run or
    that fail to import instead of failing. on_import hears of each file just before it is imported."""
    indexed = index_app(script_root, on_import)
    if indexed is not None:
        return indexed
    return load_folders(script_root, on_import)

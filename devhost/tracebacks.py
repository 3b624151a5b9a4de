"""Which frames of a traceback are the user's: a failure is told on the console by the user's own file:line, so the
frames of devhost, of installed libraries (the SDK, azure.functions) and of the standard library are left out."""
from __future__ import annotations

import os
import re
import sysconfig
import traceback
from dataclasses import dataclass
from pathlib import Path

# A frame line of a formatted traceback: `  File "<path>", line <n>, in <function>`
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>.+?)\s*$', re.M)
_TRACEBACK_START = re.compile(r"^Traceback \(most recent call last\):$", re.M)  # each exception of a chain
_INSTALLED = {"site-packages", "dist-packages"}


def _roots() -> tuple[str, ...]:
    """Folders whose code is never the user's: devhost's own package and the standard library, as written and as
    resolved (a virtual environment is often a symlink, and tracebacks show whichever path imported the module)."""
    folders = [str(Path(__file__).parent), sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]]
    return tuple(sorted({os.path.join(p, "") for f in folders for p in (f, os.path.realpath(f))}))


LIBRARY_ROOTS = _roots()


@dataclass(frozen=True)
class Frame:
    """One frame of a traceback: where (file and line) and in which function."""

    file: str
    line: int
    function: str

    def shown(self, script_root: str | os.PathLike[str] | None = None) -> str:
        """`file:line`, the file relative to the app's script root when it lies under it."""
        path = self.file
        if script_root is not None:
            for root in {os.path.join(str(script_root), ""), os.path.join(os.path.realpath(script_root), "")}:
                if path.startswith(root):
                    path = path[len(root):]
                    break
        return f"{path}:{self.line}"


def is_library(file: str, roots: tuple[str, ...] = LIBRARY_ROOTS) -> bool:
    """True for code that is not the user's: devhost, an installed package, the standard library, or a frame with
    no file of its own (`<frozen importlib._bootstrap>`, `<string>`)."""
    if file.startswith("<"):
        return True
    if _INSTALLED & set(Path(file).parts):
        return True
    return file.startswith(roots) or os.path.realpath(file).startswith(roots)


def frames(text: str) -> list[Frame]:
    """The frames a formatted traceback names, outermost first (chained exceptions in the order printed)."""
    return [Frame(m["file"], int(m["line"]), m["function"]) for m in _FRAME.finditer(text)]


def user_frame(text: str, roots: tuple[str, ...] = LIBRARY_ROOTS) -> Frame | None:
    """The innermost frame of the user's own code in a formatted traceback, or None when every frame is a
    library's. Of chained exceptions, the last printed that went through user code: an exception the user's code
    raised from another is told where it was raised, and one the SDK raised `from` the user's by the user's line."""
    for block in reversed(_TRACEBACK_START.split(text)):
        mine = [f for f in frames(block) if not is_library(f.file, roots)]
        if mine:
            return mine[-1]
    return None


def exception_text(exc: BaseException) -> str:
    """The whole traceback of `exc` as Python prints it, causes and contexts included."""
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))

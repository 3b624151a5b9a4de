"""Which frames of a traceback are the user's: a failure is told on the console by the user's own file:line, so the
frames of devhost, of installed libraries (the SDK, azure.functions) and of the standard library are left out."""
from __future__ import annotations

import os
import re
import sys
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


_HOST_FOLDERS = tuple(sorted({os.path.join(p, "") for p in (str(Path(__file__).parent),
                                                              os.path.realpath(Path(__file__).parent))}, key=len,
                             reverse=True))


def without_host_paths(text: str) -> str:
    """A formatted traceback whose frames of devhost's own code name their file from the package (`File
    "devhost/workers/process.py"`), not by where devhost lies on this machine: they stand where the Python worker's
    and the host's own frames stand in Azure, and a stack trace in an answer or a history should not tell the path
    of a checkout. The user's files and installed libraries keep their paths, as in Azure."""
    for folder in _HOST_FOLDERS:
        text = text.replace(f'File "{folder}', 'File "devhost' + os.sep)
    return text


def stack_text(exc: BaseException) -> str:
    """The frames of `exc` alone (traceback.format_tb), devhost's named from the package (without_host_paths)."""
    return without_host_paths("".join(traceback.format_tb(exc.__traceback__)))


def worker_stack_trace(exc: BaseException) -> str:
    """The stack trace the Python worker reports to the host for a failed invocation (RpcException.stack_trace):
    from Python 3.13 the worker is azure-functions-runtime, which sends the whole traceback, causes included
    (exception_text); before it, azure-functions-worker sent the frames of the exception alone. devhost's frames
    stand for the worker's own, named from the package (without_host_paths)."""
    if sys.version_info >= (3, 13):
        return without_host_paths(exception_text(exc))
    return stack_text(exc)

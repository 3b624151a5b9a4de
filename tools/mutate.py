"""Mutation testing of devhost's pure protocol core (`make mutate`, docs/mutation.md): each mutant is one small change
to one module's syntax tree (a comparison flipped, a condition negated, a constant or string changed, a statement
dropped...), and the fast tests that pin the core must fail on it. A mutant the tests pass is a survivor: a gap in
the tests, or a change that changes nothing (an equivalent mutant, listed with its reason in mutation_equivalent.txt).

Each mutant runs in a child forked from this process, which has imported pytest and the SDK but no module of the
core: the child compiles the mutated tree in place of the module and runs pytest with -x under a deadline (SIGALRM).
Settings, from the environment: MUTATE_MODULES (comma-separated file names in devhost/protocol, default all),
MUTATE_LIMIT (at most this many mutants per module, picked evenly; default all), MUTATE_TIMEOUT (seconds per
mutant, default 30), MUTATE_TESTS (space-separated pytest paths, default the protocol and replay suites), MUTATE_MATCH
(only the mutants whose key holds this text, or one of several separated by |; `-v` prints each one's fate)."""
from __future__ import annotations

import ast
import os
import resource
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "devhost" / "protocol"
TESTS = ["tests/devhost/protocol", "tests/replay"]
EQUIVALENT = Path(__file__).resolve().parent / "mutation_equivalent.txt"

_FLIPPED = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE,
            ast.LtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_BOUNDARY = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
_ARITHMETIC = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult}
LOAD_FAILED = 99
IMPORT_FAILED = 98
_DROPPED = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Raise, ast.Continue, ast.Break)


@dataclass
class Site:
    """One mutant: where (line, enclosing function), what (operator, source text) and how (apply, on the tree
    it was found in)."""

    line: int
    where: str
    operator: str
    node: ast.AST
    source: str
    apply: Callable[[], None]

    @property
    def text(self) -> str:
        """The mutated node's source, on one line (read from the file: the node may have been changed since)."""
        segment = ast.get_source_segment(self.source, self.node) or ast.unparse(self.node)
        line = " ".join(segment.split())
        return line if len(line) <= 70 else line[:67] + "..."

    def key(self, module: str) -> str:
        """An id that survives edits elsewhere in the file (no line number): the one mutation_equivalent.txt uses."""
        return f"{module}:{self.where}: {self.operator}: {self.text}"


def _is_docstring(body: list[ast.stmt], index: int) -> bool:
    node = body[index]
    return index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
        and isinstance(node.value.value, str)


class _Finder:
    """Walks a module's tree and lists every mutation site, each with a closure that applies it in place."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sites: list[Site] = []
        self.scope: list[str] = []

    def add(self, node: ast.AST, operator: str, apply: Callable[[], None], text_of: ast.AST | None = None) -> None:
        self.sites.append(Site(getattr(node, "lineno", 0), ".".join(self.scope) or "<module>", operator,
                               text_of or node, self.source, apply))

    def visit(self, node: ast.AST, setter: Callable[[ast.AST], None] | None = None) -> None:
        scoped = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        if scoped:
            self.scope.append(node.name)
        self.mutations(node, setter)
        for field, value in ast.iter_fields(node):
            if field in ("annotation", "returns", "decorator_list", "type_comment", "format_spec"):
                continue
            if isinstance(value, list):
                for index, child in enumerate(value):
                    if not isinstance(child, ast.AST):
                        continue
                    if isinstance(child, ast.stmt) and _is_docstring(value, index) and \
                            isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        continue
                    if isinstance(child, ast.ImportFrom) and child.module == "__future__":
                        continue
                    if isinstance(child, _DROPPED) and not (isinstance(child, ast.AnnAssign) and child.value is None):
                        self.add(child, "drop statement", _dropper(value, index))
                    self.visit(child, _list_setter(value, index))
            elif isinstance(value, ast.AST):
                self.visit(value, _field_setter(node, field))
        if scoped:
            self.scope.pop()

    def mutations(self, node: ast.AST, setter: Callable[[ast.AST], None] | None) -> None:
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                for table, label in ((_FLIPPED, "negate"), (_BOUNDARY, "boundary")):
                    new = table.get(type(op))
                    if new is not None:
                        self.add(node, f"{label} {type(op).__name__}->{new.__name__}", _op_setter(node.ops, i, new))
        elif isinstance(node, ast.BoolOp):
            new = ast.Or if isinstance(node.op, ast.And) else ast.And
            self.add(node, f"{type(node.op).__name__}->{new.__name__}", _attr_setter(node, "op", new()))
        elif isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            new = _ARITHMETIC[type(node.op)]
            self.add(node, f"{type(node.op).__name__}->{new.__name__}", _attr_setter(node, "op", new()))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and setter is not None:
            self.add(node, "drop not", lambda: setter(node.operand))
        elif isinstance(node, ast.Constant) and setter is not None:
            self.constant(node, setter)
        if isinstance(node, (ast.If, ast.While, ast.IfExp)):
            self.add(node.test, "negate condition", _negator(node, "test"), text_of=node.test)
        elif isinstance(node, ast.comprehension):
            for i in range(len(node.ifs)):
                self.add(node.ifs[i], "negate condition", _negator_at(node.ifs, i), text_of=node.ifs[i])

    def constant(self, node: ast.Constant, setter: Callable[[ast.AST], None]) -> None:
        value = node.value
        if isinstance(value, bool):
            self.add(node, f"{value}->{not value}", lambda: setter(ast.Constant(not value)))
        elif isinstance(value, (int, float)):
            self.add(node, f"{value}->{value + 1}", lambda: setter(ast.Constant(value + 1)))
        elif isinstance(value, str):
            new = value + "XX" if value else "XX"
            self.add(node, "string changed", lambda: setter(ast.Constant(new)))
        elif value is None:
            return


def _dropper(body: list[ast.stmt], index: int) -> Callable[[], None]:
    def apply() -> None:
        body[index] = ast.copy_location(ast.Pass(), body[index])
    return apply


def _list_setter(items: list, index: int) -> Callable[[ast.AST], None]:
    def set_(new: ast.AST) -> None:
        items[index] = ast.copy_location(new, items[index]) if hasattr(items[index], "lineno") else new
    return set_


def _field_setter(node: ast.AST, field: str) -> Callable[[ast.AST], None]:
    def set_(new: ast.AST) -> None:
        old = getattr(node, field)
        setattr(node, field, ast.copy_location(new, old) if hasattr(old, "lineno") else new)
    return set_


def _op_setter(ops: list, index: int, new: type) -> Callable[[], None]:
    def apply() -> None:
        ops[index] = new()
    return apply


def _attr_setter(node: ast.AST, attr: str, value: object) -> Callable[[], None]:
    return lambda: setattr(node, attr, value)


def _negator(node: ast.AST, field: str) -> Callable[[], None]:
    def apply() -> None:
        test = getattr(node, field)
        setattr(node, field, ast.copy_location(ast.UnaryOp(ast.Not(), test), test))
    return apply


def _negator_at(items: list, index: int) -> Callable[[], None]:
    def apply() -> None:
        items[index] = ast.copy_location(ast.UnaryOp(ast.Not(), items[index]), items[index])
    return apply


def sites(source: str) -> tuple[ast.Module, list[Site]]:
    """The tree of `source` and every mutation site in it, in a fixed order."""
    tree = ast.parse(source)
    finder = _Finder(source)
    finder.visit(tree)
    return tree, finder.sites


def keys(module: str, found: list[Site]) -> list[str]:
    """Each site's key, unique in the module: a repeated one gets ` #2`, ` #3`... in the order of the file."""
    seen: dict[str, int] = {}
    out = []
    for site in found:
        key = site.key(module)
        seen[key] = seen.get(key, 0) + 1
        out.append(key if seen[key] == 1 else f"{key} #{seen[key]}")
    return out


def mutant_code(path: Path, index: int):
    """The code object of `path` with mutation `index` applied (a fresh tree each time; -1: none)."""
    tree, found = sites(path.read_text(encoding="utf-8"))
    if index >= 0:
        found[index].apply()
    return compile(ast.fix_missing_locations(tree), str(path), "exec")


def _child(module: str, path: Path, index: int, tests: list[str], timeout: int) -> None:
    """In the forked child: load the mutated module under its own name, run the tests, exit with pytest's code."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    signal.alarm(timeout)  # a mutant that loops forever is killed by the default action of SIGALRM
    limit = 2 * 1024 ** 3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # ... and one that grows without bound fails
    try:
        import importlib
        import importlib.util

        import pytest
        spec = importlib.util.spec_from_file_location(module, path)
        loaded = importlib.util.module_from_spec(spec)
        package, _, name = module.rpartition(".")
        importlib.import_module(package)
        sys.modules[module] = loaded
        code_object = mutant_code(path, index)
        try:
            exec(code_object, loaded.__dict__)
        except Exception:  # the mutated module does not even import: every test of it fails
            os._exit(IMPORT_FAILED)
        setattr(sys.modules[package], name, loaded)
        code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-W", "ignore", *tests])
    except BaseException:  # the mutant could not even be loaded: the tool's fault, not a kill
        code = LOAD_FAILED
    os._exit(int(code))


def run_one(module: str, path: Path, index: int, tests: list[str], timeout: int) -> int:
    """Fork a child for one mutant (or, with index -1, for the code as it is); its exit status (-1: timed out)."""
    pid = os.fork()
    if pid == 0:
        _child(module, path, index, tests, timeout)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return -1 if os.WTERMSIG(status) == signal.SIGALRM else 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def sample(count: int, limit: int | None) -> list[int]:
    """At most `limit` of range(count), spread evenly (all of them without a limit)."""
    if limit is None or limit >= count:
        return list(range(count))
    return sorted({int(i * count / limit) for i in range(limit)})


def known_equivalent() -> dict[str, str]:
    """mutation_equivalent.txt: blocks of `# reason` lines followed by the keys of the mutants they explain,
    separated by blank lines."""
    known, reason = {}, ""
    for line in EQUIVALENT.read_text(encoding="utf-8").splitlines() if EQUIVALENT.exists() else []:
        if not line.strip():
            reason = ""
        elif line.startswith("#"):
            reason = f"{reason} {line.lstrip('#').strip()}".strip()
        else:
            known[line.strip()] = reason
    return known


def ordered_tests(module_file: str, tests: list[str]) -> list[str]:
    """The module's own test file first, so that most mutants are killed by the first failure (-x)."""
    own = f"tests/devhost/protocol/test_{Path(module_file).stem}.py"
    return ([own] if (ROOT / own).exists() else []) + tests


def main() -> int:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    # Imported once here, so that each child starts warm: anything but the core itself.
    import azure.durable_functions  # noqa: F401
    import azure.functions.durable_functions  # noqa: F401
    import pytest  # noqa: F401

    import devhost.model  # noqa: F401
    import devhost.tracebacks  # noqa: F401
    assert not [m for m in sys.modules if m.startswith("devhost.protocol.")], "the core must load in each child"

    modules = [m.strip() for m in os.environ.get("MUTATE_MODULES", "").split(",") if m.strip()] or \
        sorted(p.name for p in CORE.glob("*.py") if p.name != "__init__.py")
    limit = int(os.environ["MUTATE_LIMIT"]) if os.environ.get("MUTATE_LIMIT") else None
    timeout = int(os.environ.get("MUTATE_TIMEOUT", "30"))
    tests = os.environ.get("MUTATE_TESTS", "").split() or TESTS
    equivalent = known_equivalent()
    verbose = "-v" in sys.argv[1:]
    for module_file in modules:  # the tests must pass on each module loaded as its mutants will be
        if run_one(f"devhost.protocol.{Path(module_file).stem}", CORE / module_file, -1, tests, timeout * 4) != 0:
            print(f"make mutate: the tests fail on {module_file} as it is; fix them first", file=sys.stderr)
            return 2
    totals = [0, 0, 0]
    survivors: list[str] = []
    started = time.monotonic()
    for module_file in modules:
        path = CORE / module_file
        module = f"devhost.protocol.{path.stem}"
        _, found = sites(path.read_text(encoding="utf-8"))
        names = keys(path.stem, found)
        match = os.environ.get("MUTATE_MATCH", "").split("|")
        picked = [i for i in sample(len(found), limit) if any(m in names[i] for m in match)]
        killed = timed_out = equivalent_here = 0
        for index in picked:
            site = found[index]
            status = run_one(module, path, index, ordered_tests(module_file, tests), timeout)
            if verbose:
                print(f"  {'killed' if status else 'SURVIVED'} ({status}): {names[index]}", flush=True)
            if status == LOAD_FAILED:
                print(f"make mutate: mutant {names[index]} could not be loaded", file=sys.stderr)
                return 2
            if status != 0:
                killed += 1
                timed_out += status == -1
            elif names[index] in equivalent:
                equivalent_here += 1
            else:
                survivors.append(f"{module_file}:{site.line}: {site.operator}: {site.text}\n    {names[index]}")
                print("SURVIVED " + survivors[-1], flush=True)
        print(f"{module_file}: {killed}/{len(picked)} killed ({timed_out} by the deadline), {equivalent_here} "
              f"equivalent, {len(picked) - killed - equivalent_here} survived; {len(found)} mutants in all",
              flush=True)
        totals = [totals[0] + killed, totals[1] + len(picked), totals[2] + equivalent_here]
    print(f"total: {totals[0]}/{totals[1]} killed, {totals[2]} equivalent, {len(survivors)} survived "
          f"in {time.monotonic() - started:.0f} s")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())

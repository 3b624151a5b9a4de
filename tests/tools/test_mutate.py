"""tools/mutate.py, the mutator behind `make mutate`: which mutants it makes of a small module, that each one
compiles and changes the tree, and that its keys name a mutant without a line number."""
from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "mutate.py"
spec = importlib.util.spec_from_file_location("mutate_tool", TOOL)
mutate = sys.modules["mutate_tool"] = importlib.util.module_from_spec(spec)  # its dataclass looks itself up
spec.loader.exec_module(mutate)

SOURCE = '''"""A module docstring."""
from __future__ import annotations

LIMIT: int = 3


def check(x: int, names: list[str]) -> str:
    """A function docstring."""
    if x < LIMIT and "a" in names:
        return "small"
    total = x + 1
    return "big" if not total else [n for n in names if n][0]
'''


def test_each_operator_makes_a_mutant_that_compiles_and_changes_the_tree():
    tree, found = mutate.sites(SOURCE)
    original = ast.dump(tree)

    operators = set()
    for index, site in enumerate(found):
        mutated, again = mutate.sites(SOURCE)
        again[index].apply()
        compile(ast.fix_missing_locations(mutated), "m.py", "exec")
        assert ast.dump(mutated) != original, site.key("m")
        operators.add(site.operator)

    assert {"negate Lt->GtE", "boundary Lt->LtE", "negate In->NotIn", "And->Or", "Add->Sub", "drop not",
            "negate condition", "string changed", "3->4", "1->2", "0->1", "drop statement"} <= operators


def test_docstrings_annotations_and_future_imports_are_left_alone():
    _, found = mutate.sites(SOURCE)

    texts = {site.text for site in found}
    assert not any("docstring" in t or "annotations" in t for t in texts)
    assert not any(t in ("int", "str", "list[str]") for t in texts)


def test_keys_are_unique_and_survive_edits_elsewhere_in_the_file():
    _, found = mutate.sites(SOURCE)
    _, moved = mutate.sites("\n\n" + SOURCE.replace("LIMIT: int = 3", "LIMIT: int = 3\nOTHER = 'x'"))

    keys = mutate.keys("m", found)
    assert len(set(keys)) == len(keys)
    assert set(keys) <= set(mutate.keys("m", moved))
    assert "m:check: negate Lt->GtE: x < LIMIT" in keys


def test_a_sample_is_spread_over_the_whole_module():
    assert mutate.sample(10, None) == list(range(10))
    assert mutate.sample(10, 4) == [0, 2, 5, 7]
    assert mutate.sample(3, 5) == [0, 1, 2]

"""devhost.app.file_watch: which of the app's files count for reload on change, and what changed between two looks."""
from __future__ import annotations

import os

from devhost.app.file_watch import changes, describe, ignored, snapshot


def write(path, text="x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def app(tmp_path):
    write(tmp_path / "host.json", "{}")
    write(tmp_path / "local.settings.json", "{}")
    write(tmp_path / "Hello" / "__init__.py")
    write(tmp_path / "Hello" / "function.json", "{}")
    write(tmp_path / "shared" / "util.py")
    write(tmp_path / "function_app.py")
    write(tmp_path / "README.md")
    write(tmp_path / "tests" / "test_hello.py")
    write(tmp_path / ".venv" / "lib" / "site.py")
    write(tmp_path / "env" / "pyvenv.cfg")
    write(tmp_path / "env" / "lib" / "x.py")
    write(tmp_path / "Hello" / "__pycache__" / "m.py")
    write(tmp_path / ".devhost" / "store.py")
    write(tmp_path / ".funcignore", "# left out of publishing\ntests\nlocal.settings.json\nbench*\n")
    write(tmp_path / "bench_tools" / "run.py")
    return tmp_path


def test_the_apps_code_function_json_and_settings_are_watched_and_nothing_else(tmp_path):
    assert sorted(snapshot(app(tmp_path))) == ["Hello/__init__.py", "Hello/function.json", "function_app.py",
                                               "host.json", "local.settings.json", "shared/util.py"]


def test_funcignore_patterns_match_a_leading_part_of_the_path_as_core_tools_matches_them():
    patterns = ["tests", "bench*", "docs/*.md", "*.pyc"]

    assert ignored("tests/a/b.py", patterns) and ignored("bench_tools/run.py", patterns)
    assert ignored("docs/x.md", patterns) and ignored("a.pyc", patterns)
    assert not ignored("Hello/__init__.py", patterns) and not ignored("mytests/x.py", patterns)


def test_an_edit_an_addition_and_a_removal_are_changes_and_a_rewrite_of_the_same_file_is_not(tmp_path):
    root = app(tmp_path)
    before = snapshot(root)
    os.utime(root / "Hello" / "__init__.py", ns=(1, 1))
    write(root / "Bye" / "function.json", "{}")
    (root / "shared" / "util.py").unlink()

    assert changes(before, snapshot(root)) == ["Bye/function.json", "Hello/__init__.py", "shared/util.py"]
    assert changes(before, before) == []


def test_the_log_line_names_one_file_or_the_first_and_how_many_more():
    assert describe(["Hello/__init__.py"]) == "Hello/__init__.py"
    assert describe(["a.py", "b.py", "c.py"]) == "a.py and 2 more"

"""The Makefile on an interpreter older than 3.10 (a fake one, printing what Python 3.9 would): make stops with one
line naming the interpreter it found and how to pass PYTHON=, before creating .venv or running pip."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE_PYTHON = '#!/bin/sh\necho "3.9.18 /opt/old/bin/python3.9"\n'  # what the Makefile's version probe prints

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The Makefile and the requirements it depends on, in a folder without .venv."""
    (tmp_path / "tests").mkdir()
    for name in ("Makefile", "requirements.txt", "tests/requirements.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    fake = tmp_path / "bin" / "python3"
    fake.parent.mkdir()
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    return tmp_path


def make(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{checkout / 'bin'}{os.pathsep}{os.environ['PATH']}")
    env.pop("PYTHON", None)
    env.pop("MAKEFLAGS", None)
    return subprocess.run(["make", "--no-print-directory", *args], cwd=checkout, env=env, capture_output=True,
                          text=True, timeout=60)


def test_an_old_interpreter_passed_as_python_stops_make_with_one_clear_line(checkout):
    result = make(checkout, "venv", f"PYTHON={checkout / 'bin' / 'python3'}")

    assert result.returncode != 0
    assert f"{checkout / 'bin' / 'python3'} is Python 3.9.18 (/opt/old/bin/python3.9), and devhost needs Python " \
           "3.10 or newer: pass PYTHON=python3.x" in result.stderr
    assert not (checkout / ".venv").exists()


def test_an_old_default_python3_stops_make_before_creating_the_venv(checkout):
    result = make(checkout, "venv")

    assert result.returncode != 0
    (line,) = [line for line in result.stderr.splitlines() if "devhost needs" in line]
    assert line == ("make: python3 is Python 3.9.18 (/opt/old/bin/python3.9), and devhost needs Python 3.10 or newer: "
                    "pass PYTHON=python3.x, a newer interpreter (for example make PYTHON=python3.12 run)")
    assert "pip" not in result.stderr and not (checkout / ".venv").exists()

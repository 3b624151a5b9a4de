"""Puts the repository root on sys.path so tests import the function folders as packages, and loads the
devhost test harness (fixtures `devhost`, `devhost_factory`, `app_root`)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytest_plugins = ["devhost.testing"]


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def app_root() -> Path:
    """The app under test is the repository's own Hello app."""
    return ROOT

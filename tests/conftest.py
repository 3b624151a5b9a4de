"""Puts the repository root on sys.path so tests import the function folders as packages, loads the
devhost test harness (fixtures `devhost`, `devhost_factory`, `app_root`), and marks the end-to-end tests `e2e`."""

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


E2E_FOLDER = ROOT / "tests" / "e2e"
PROCESS_FIXTURES = {"devhost", "devhost_factory"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `e2e` every test under tests/e2e and every test that starts devhost processes through the harness,
    so `make test-fast` (pytest -m "not e2e") leaves them out."""
    for item in items:
        uses_processes = PROCESS_FIXTURES & set(getattr(item, "fixturenames", ()))
        if E2E_FOLDER in item.path.parents or uses_processes:
            item.add_marker(pytest.mark.e2e)

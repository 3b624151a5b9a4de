"""Puts the repository root on sys.path so tests import the function folders as packages, loads the
devhost test harness (fixtures `devhost`, `devhost_factory`, `app_root`), marks the end-to-end tests `e2e`, and
finds the Chromium that the browser tests (fixture `browser`, marker `browser`) drive, or skips them with one line
at the end of the run saying how to get one (never under CI=true: there they fail)."""

import functools
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Iterator

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
CHROMIUM_ENV = "DEVHOST_CHROMIUM"
DEBIAN_CHROMIUM = "/usr/bin/chromium"
NO_CHROMIUM = "no Chromium to drive"
HOW_TO_GET_CHROMIUM = (f"`make chromium` installs Debian's (apt-get install chromium, with sudo when not root), "
                       f"`.venv/bin/python -m playwright install chromium` downloads Playwright's, or set "
                       f"{CHROMIUM_ENV}=<path to a chromium or chrome executable>")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `e2e` every test under tests/e2e and every test that starts devhost processes through the harness,
    so `make test-fast` (pytest -m "not e2e") leaves them out; mark `browser` every test that drives Chromium."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if E2E_FOLDER in item.path.parents or PROCESS_FIXTURES & fixtures:
            item.add_marker(pytest.mark.e2e)
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)


# -- the browser tests' Chromium -----------------------------------------------------------------------------------
def _executable(path: str | None) -> bool:
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def _playwright_chromium() -> str | None:
    """The Chromium Playwright downloaded for itself (`playwright install chromium`), if it did."""
    from playwright.sync_api import Error, sync_playwright

    try:
        with sync_playwright() as p:
            path = p.chromium.executable_path
    except Error:
        return None
    return path if _executable(path) else None


@functools.cache
def find_chromium() -> tuple[str | None, str]:
    """(the Chromium the browser tests drive, "") or (None, why there is none). The one place that decides:
    $DEVHOST_CHROMIUM when set (and only it), else Debian's /usr/bin/chromium (or `chromium` on the PATH), else
    Playwright's own download."""
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        return (named, "") if _executable(named) else (None, f"{CHROMIUM_ENV}={named} is not an executable file")
    for path in (DEBIAN_CHROMIUM, shutil.which("chromium")):
        if _executable(path):
            return path, ""
    path = _playwright_chromium()
    if path:
        return path, ""
    return None, f"neither {DEBIAN_CHROMIUM} nor Playwright's own Chromium is installed"


def need_chromium() -> str:
    """The Chromium to drive; skips the test when there is none (fails it under CI=true, where a skipped browser
    test would hide that the dashboard went untested)."""
    path, why = find_chromium()
    if path is not None:
        return path
    message = f"{NO_CHROMIUM}: {why}. {HOW_TO_GET_CHROMIUM}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A browser test without a Chromium is skipped before its other fixtures start devhost processes."""
    if item.get_closest_marker("browser"):
        need_chromium()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A Chromium driven by Playwright (one per test module: Playwright's sync API holds an event loop of its own
    while it runs, which must not outlive the module into tests that run theirs)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=need_chromium(), args=["--no-sandbox"])
        yield launched
        launched.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One visible line when browser tests were skipped for want of a Chromium, and how to get one."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if NO_CHROMIUM in str(r.longrepr)]
    if skipped:
        _, why = find_chromium()
        terminalreporter.write_line(f"{len(skipped)} browser tests skipped: {NO_CHROMIUM} ({why}). "
                                    f"{HOW_TO_GET_CHROMIUM}.", yellow=True, bold=True)

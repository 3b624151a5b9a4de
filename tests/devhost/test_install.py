"""Installing devhost into another project: `pip install` of this repository into a fresh virtual environment gives
the `devhost` command and the pytest plugin, and an outside test project runs against an example app with nothing
but a plain `app_root` fixture. The new environment reuses this one's packages (a .pth file, like
--system-site-packages), so pip builds and installs devhost offline (--no-index) and downloads nothing."""
from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # builds a wheel and starts devhost processes: `make test-fast` leaves it out

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "tests" / "apps" / "hello_v2"
# What a clone has that the build never reads (virtual environments, stores, caches, the tests) stays behind.
LEFT_BEHIND = shutil.ignore_patterns(".git", ".venv*", ".devhost", ".benchmarks", "tests", "__pycache__", "build",
                                     "dist", "*.egg-info", ".pytest_cache", "__azurite_db*", "__blobstorage__",
                                     "__queuestorage__")

EXTERNAL_TEST = f'''
import sys

import pytest


@pytest.fixture
def app_root():
    return {str(APP)!r}


def test_it(devhost):
    instance_id = devhost.start_instance("hello_orchestrator")
    assert devhost.wait(instance_id)["output"] == ["Hello Seattle", "Hello Tokyo", "Hello London"]


def test_the_harness_is_the_installed_one():
    import devhost
    assert devhost.__file__.startswith(sys.prefix)
'''


def run(*cmd: str | Path, cwd: Path | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir(), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "PIP_NO_CACHE_DIR": "1"}
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with devhost pip-installed from a copy of this repository."""
    base = tmp_path_factory.mktemp("install")
    source = base / "devhost-src"
    shutil.copytree(ROOT, source, ignore=LEFT_BEHIND)  # the repository as a clone has it, built outside the tree
    env_dir = base / "venv"
    created = run(sys.executable, "-m", "venv", "--without-pip", env_dir)
    assert created.returncode == 0, created.stderr
    site = Path(run(env_dir / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                .stdout.strip())
    (site / "reuse-test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = run(env_dir / "bin" / "python", "-m", "pip", "install", "--no-index", "--no-build-isolation", source)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return env_dir


def test_the_devhost_command_has_the_flags_of_python_m_devhost(venv):
    command = run(venv / "bin" / "devhost", "--help")
    module = run(sys.executable, "-m", "devhost", "--help", cwd=ROOT)

    assert command.returncode == 0, command.stderr
    def options(help_text: str) -> str:  # the help names the command as it was called
        return " ".join(help_text.split("options:", 1)[1].split()).replace("python -m devhost", "devhost")

    assert options(command.stdout) == options(module.stdout)


def test_an_outside_project_uses_the_plugin_with_a_plain_app_root_fixture(venv, tmp_path):
    project = tmp_path / "my-project"
    project.mkdir()
    (project / "test_my_app.py").write_text(textwrap.dedent(EXTERNAL_TEST))

    result = run(venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_installed_package_has_every_layer_and_the_dashboards_files_and_not_the_benchmarks(venv):
    script = ("import importlib, pathlib, devhost, devhost.runtime.store.backends, devhost.workers.process, "
              "devhost.web.server as s; root = pathlib.Path(devhost.__file__).parent; "
              "print((s.DASHBOARD_FILES / 'index.html').is_file(), s.OPENAPI_FILE.is_file(), "
              "str(root).startswith(__import__('sys').prefix), importlib.util.find_spec('benchmarks') is None)")
    result = run(venv / "bin" / "python", "-c", script, cwd=Path(tempfile.gettempdir()))

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True"]

"""The README's commands do what it says, to the letter: every command it shows is either run here or named below as
one that needs Azure or Core Tools. `make` targets run through make itself (a pytest command that make would run is
collected, not run: this suite cannot run itself), and the curl flow runs as written against `make run`."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from devhost.testing import free_port, poll

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="make and a POSIX shell")

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMAND = re.compile(r"^(?:make|curl|\.venv/bin/python|python|func|az|azurite|source|ss)\b|^(?:STATUS|DEVHOST_E2E_BASE_URL)=")

# Commands that cannot run on this machine, and why; every other command in the README is run by a test below.
NOT_HERE = {
    "func azure functionapp publish <APP>": "publishes to Azure: needs a subscription and Core Tools",
    "func azure functionapp publish": "the same, named in a sentence",
    "az functionapp create": "creates an Azure resource",
    "azurite --silent": "the Core Tools route's storage emulator (npm package), not used by devhost",
    "source .venv/bin/activate && func start": "Core Tools",
    "DEVHOST_E2E_BASE_URL=http://localhost:7071 make test PYTEST_ARGS=tests/e2e/test_hello_e2e.py":
        "runs against `func start`; the same tests run against devhost in this suite",
    "func start": "Core Tools", "func host start": "Core Tools", "func: host start": "the VS Code task of Core Tools",
    "func: command not found": "what a shell says without Core Tools",
}
# The README commands the tests below run (a test fails when the README drops or changes one of them).
RUN_HERE = {
    "make run", "make test", "make test-fast", "make venv", "make test PYTEST_ARGS=\"-k replay\"",
    "make test PYTEST_ARGS=tests/e2e/test_hello_e2e.py", "make run ARGS=\"--port 7072 --time-travel\"",
    "make run ARGS=\"--port 7072\"", "make run ARGS=\"--port 7072 --store .devhost/second.sqlite\"",
    "make PYTHON=python3.12 test", ".venv/bin/python -m devhost --help", "ss -ltnp 'sport = :7071'",
    "curl -i -X POST http://localhost:7071/api/orchestrators/HelloOrchestrator", "STATUS=$(curl",
    "make bench", "make bench-peers", "make run ARGS=--no-reload", "make chromium", "python -m devhost replay",
    "python -m devhost --in-process", "make mutate",
}


def readme_commands() -> set[str]:
    """Each command line of the README's sh blocks and inline code spans, without its comment."""
    found: set[str] = set()
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    for line in "\n".join(b.split("\n")[0] if b.startswith("STATUS=") else b for b in blocks).splitlines():
        line = line.split("  #")[0].strip()
        if COMMAND.match(line):
            found.add(line if not line.startswith(("az ", "STATUS=")) else " ".join(line.split()[:3])
                      if line.startswith("az ") else "STATUS=$(curl")
    for span in re.findall(r"`([^`\n]+)`", README):
        if COMMAND.match(span) and " " in span:
            found.add(span.strip())
    return found


def test_every_readme_command_is_run_here_or_named_as_needing_azure():
    commands = readme_commands()

    assert commands - set(NOT_HERE) - RUN_HERE == set()
    assert RUN_HERE <= commands, "a command this test runs is gone from the README: update RUN_HERE"


# What a make this suite runs under hands its sub-processes: a user's shell has none of it.
MAKE_STATE = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "PYTEST_ARGS", "ARGS", "PYTHON")


def make(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """make as a user runs it from a shell: not as a sub-make of the `make test` this suite may run under (which
    would print "Entering directory" lines and pass its own flags on)."""
    clean = {k: v for k, v in (env or os.environ).items() if k not in MAKE_STATE}
    return subprocess.run(["make", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=clean)


def pytest_command(*make_args: str) -> list[str]:
    """The pytest command `make <make_args>` runs (read with make -n: the venv is up to date, so it is the only
    command)."""
    dry = make("-n", *make_args)
    assert dry.returncode == 0, dry.stderr
    (line,) = [c for c in dry.stdout.splitlines() if " -m pytest " in c]
    return shlex.split(line)


def collected(command: list[str]) -> dict[str, int]:
    """Files and their test counts that the pytest command would run."""
    result = subprocess.run([*command, "--collect-only", "-q", "-p", "no:cacheprovider"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return {path: int(n) for path, n in re.findall(r"^(tests/\S+\.py): (\d+)$", result.stdout, flags=re.M)}


def test_make_test_runs_every_test_and_one_file_runs_one_file():
    every = collected(pytest_command("test"))
    one = collected(pytest_command("test", "PYTEST_ARGS=tests/e2e/test_hello_e2e.py"))
    replay = collected(pytest_command("test", "PYTEST_ARGS=-k replay"))

    assert list(one) == ["tests/e2e/test_hello_e2e.py"] and one["tests/e2e/test_hello_e2e.py"] >= 10
    assert {"tests/e2e/test_hello_e2e.py", "tests/app/test_hello_orchestrator.py"} <= set(every)
    assert sum(every.values()) > 1000 and "tests/e2e/test_readme.py" in every
    assert set(replay) and all("replay" in path or n < every[path] for path, n in replay.items())


def test_make_test_fast_leaves_out_the_end_to_end_tests():
    command = pytest_command("test-fast")
    fast = collected(command)

    assert "not e2e" in command and "tests/e2e/test_hello_e2e.py" not in fast
    assert "tests/replay/test_hello_replay.py" in fast and "tests/devhost/test_layers.py" in fast


WHICH = "import os, sys; print(sys.version.split()[0], os.path.realpath(sys.executable))"


def interpreter(python: str) -> str | None:
    """"<version> <real path>" of an interpreter, as the Makefile records it; None when it does not run."""
    found = subprocess.run([python, "-c", WHICH], capture_output=True, text=True)
    return found.stdout.strip() if found.returncode == 0 else None


def built_with() -> str:
    return (ROOT / ".venv" / ".installed").read_text().splitlines()[0]


def test_make_venv_is_up_to_date_and_make_python_rebuilds_only_for_another_interpreter():
    """A real rebuild with another interpreter reinstalls every package; make -n shows the steps it would take."""
    assert make("venv").returncode == 0
    assert make("-q", "venv").returncode == 0  # -q: 0 when the stamp is newer than both requirements files
    same = make("-n", f"PYTHON={built_with().split()[1]}", "test")
    names = ["python3.10", "python3.11", "python3.12", "python3.13"]
    candidates = [p for p in names if shutil.which(p)] + sorted(  # pyenv keeps versions outside PATH
        str(p) for p in Path.home().glob(".pyenv/versions/3.1[0-3]*/bin/python3.1[0-3]"))
    others = [p for p in candidates if interpreter(p) not in (None, built_with())]

    assert same.returncode == 0 and "rm -rf .venv" not in same.stdout
    if not others:
        pytest.skip("no second Python 3.10+ on this machine")
    rebuild = make("-n", f"PYTHON={others[0]}", "test")
    assert "rm -rf .venv" in rebuild.stdout and f"{others[0]} -m venv .venv" in rebuild.stdout


def test_make_bench_and_bench_peers_run_the_benchmark_modules():
    """The benchmarks take minutes of load (docs/performance.md): here, what make would run, and that it imports."""
    bench, peers = make("-n", "bench"), make("-n", "bench-peers")
    imported = subprocess.run([".venv/bin/python", "-c", "import benchmarks.bench, benchmarks.peers"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)

    assert "-m benchmarks.bench" in bench.stdout and "-m benchmarks.peers" in peers.stdout
    assert imported.returncode == 0, imported.stderr


def test_make_chromium_installs_debians_chromium_or_says_it_is_there():
    if Path("/usr/bin/chromium").exists():
        done = make("chromium")
        assert done.returncode == 0 and "Chromium is installed: /usr/bin/chromium" in done.stdout
    else:  # installing takes minutes and root: what it would run
        assert "apt-get install -y chromium" in make("-n", "chromium").stdout


@pytest.mark.parametrize("args", ["--no-reload", "--port 7072 --time-travel", "--port 7072",
                                  "--port 7072 --store .devhost/second.sqlite"])
def test_make_run_passes_the_readmes_args_to_devhost_as_they_are(args):
    dry = make("-n", "run", f"ARGS={args}")

    assert dry.stdout.strip().endswith(f"-m devhost {args}"), dry.stdout


def test_make_mutate_runs_the_mutation_tool_on_a_sample():
    """The whole run takes about half an hour (docs/mutation.md): here two mutants of one module, through make."""
    env = dict(os.environ, MUTATE_MODULES="stories.py", MUTATE_LIMIT="2", MUTATE_TESTS="tests/devhost/protocol")
    result = make("mutate", timeout=600, env=env)

    assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr[-2000:]
    assert "stories" in result.stdout and re.search(r"\d+ mutants?", result.stdout), result.stdout[-2000:]


def test_devhost_help_lists_the_flags_the_readme_passes():
    result = subprocess.run([".venv/bin/python", "-m", "devhost", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)

    assert result.returncode == 0
    assert {"--port", "--time-travel", "--store", "--no-reload"} <= set(re.findall(r"--[\w-]+", result.stdout))


class MakeRun:
    """`make run ARGS="..."` (or another command) in its own process group, stopped with Ctrl-C as a user stops it."""

    def __init__(self, args: str, command: list[str] | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if k not in MAKE_STATE}
        self.process = subprocess.Popen(command or ["make", "run", f"ARGS={args}"], cwd=ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, start_new_session=True, env=env)

    def serving(self, port: int) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
        except requests.ConnectionError:
            assert self.process.poll() is None, self.process.stdout.read() if self.process.stdout else ""
            return False

    def stop(self) -> str:
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            out, _ = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            out, _ = self.process.communicate()
        return out


def readme_block(starting: str) -> str:
    return next(b for b in re.findall(r"```sh\n(.*?)```", README, flags=re.S) if b.startswith(starting))


def test_make_run_with_args_serves_the_readme_curl_flow_on_that_port(tmp_path):
    port = free_port()
    run = MakeRun(f"--port {port} --time-travel --store {tmp_path / 'store.sqlite'}")
    try:
        poll(lambda: run.serving(port), timeout=60, what="make run to serve")
        start = readme_block("curl -i -X POST").replace("localhost:7071", f"localhost:{port}")
        started = subprocess.run(["bash", "-c", start], capture_output=True, text=True, timeout=60)
        flow = readme_block("STATUS=").replace("localhost:7071", f"localhost:{port}")

        polled = subprocess.run(["bash", "-c", flow], capture_output=True, text=True, timeout=60)

        assert started.stdout.startswith("HTTP/1.1 202 Accepted") and "Location: " in started.stdout
        assert re.match(r"HTTP/1.1 20[02] ", polled.stdout), polled.stdout + polled.stderr
        url = re.search(r"^Location: (\S+)", started.stdout, flags=re.M).group(1)
        done = poll(lambda: (r := requests.get(url, timeout=10)).status_code == 200 and r.json(), timeout=30,
                    what="the README's instance to complete")
        assert done["runtimeStatus"] == "Completed"
        assert done["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
        assert requests.post(f"http://127.0.0.1:{port}/admin/devhost/advance?seconds=1", timeout=30).ok
    finally:
        out = run.stop()
    assert f":{port}" in out and "Traceback" not in out
    # Before a deploy: the README's replay check of the code against what that store holds.
    check = subprocess.run([".venv/bin/python", "-m", "devhost", "replay", str(tmp_path / "store.sqlite")], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert re.search(r"^ok \S+ HelloOrchestrator \(\d+ events\)$", check.stdout, flags=re.M), check.stdout


def test_a_second_devhost_on_the_same_folder_runs_beside_the_first_with_its_own_store(tmp_path):
    """The port advice of the README's Troubleshooting: another port, and a store of its own."""
    first_port, second_port = free_port(), free_port()
    first = MakeRun(f"--port {first_port} --store {tmp_path / 'first.sqlite'}")
    second = None
    try:
        poll(lambda: first.serving(first_port), timeout=60, what="the first devhost")
        same_store = subprocess.run(
            [".venv/bin/python", "-m", "devhost", "--port", str(second_port), "--store",
             str(tmp_path / "first.sqlite")], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert same_store.returncode != 0 and "in use by another devhost" in same_store.stdout + same_store.stderr
        second = MakeRun(f"--port {second_port} --store {tmp_path / 'second.sqlite'}")
        poll(lambda: second.serving(second_port), timeout=60, what="the second devhost")
        busy = subprocess.run([".venv/bin/python", "-m", "devhost", "--port", str(first_port), "--store",
                               str(tmp_path / "third.sqlite")], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert busy.returncode == 2 and 'make run ARGS="--port 7072"' in busy.stderr
        if shutil.which("ss"):  # the README's way to name the process that holds the port
            ss = subprocess.run(["bash", "-c", f"ss -ltnp 'sport = :{first_port}'"], capture_output=True, text=True)
            assert f":{first_port}" in ss.stdout and "python" in ss.stdout
    finally:
        if second is not None:
            second.stop()
        first.stop()


def test_what_f5_runs_serves_the_app_from_one_process(tmp_path):
    """"Run with devhost (no Core Tools)": python -m devhost --in-process, the app's code in the host process."""
    port = free_port()
    run = MakeRun("", [".venv/bin/python", "-m", "devhost", "--in-process", "--port", str(port), "--store",
                       str(tmp_path / "store.sqlite")])
    try:
        poll(lambda: run.serving(port), timeout=60, what="devhost --in-process to serve")
        started = requests.post(f"http://127.0.0.1:{port}/api/orchestrators/HelloOrchestrator", timeout=30)
        url = started.json()["statusQueryGetUri"]
        done = poll(lambda: (r := requests.get(url, timeout=10)).status_code == 200 and r.json(), timeout=30,
                    what="the instance to complete")
        assert done["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    finally:
        out = run.stop()
    assert "Workers:" not in out and "Reload on change: off with --in-process" in out


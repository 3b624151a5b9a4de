"""A failure's story on devhost's console, end to end (tests/apps/mistakes): one line with the reason, the user's own
file:line (no frame of devhost, the SDK or azure.functions) and, for the common mistakes, a hint; while what the API
answers stays the extension's words."""
from __future__ import annotations

import sys
from pathlib import Path

from devhost.testing import DevhostProcess, app_host, poll

APP = Path(__file__).resolve().parents[1] / "apps" / "mistakes"
host = app_host(APP, time_travel=False)


def console_line(host: DevhostProcess, *parts: str) -> str:
    """The first line of the host's console output that holds every one of `parts` (polled: it comes once the
    failure is committed)."""
    def found() -> str | None:
        return next((line for line in host.log().splitlines() if all(p in line for p in parts)), None)

    return poll(found, timeout=10, what=f"a console line with {parts}")


def failed(host: DevhostProcess, orchestrator: str) -> tuple[str, str]:
    """Start `orchestrator`, wait for it to fail; its id and the console line that tells its failure."""
    instance_id = host.start_instance(orchestrator, {})
    final = host.wait(instance_id)
    assert final["runtimeStatus"] == "Failed", final
    return instance_id, console_line(host, f"Orchestration {orchestrator} ({instance_id}) Failed: ")


def assert_no_library_frames(line: str) -> None:
    assert "devhost/" not in line and "site-packages" not in line and "Traceback" not in line, line


def test_a_missing_yield_is_told_with_the_hint_and_the_output_stays_the_sdks(host):
    instance_id, line = failed(host, "NoYield")

    assert line.endswith(f"Orchestration NoYield ({instance_id}) Failed: Object of type AtomicTask is not JSON "
                         "serializable (in NoYield/__init__.py). Hint: did you forget `yield` before "
                         "context.call_activity(...)? An orchestrator yields each task it awaits")
    assert host.status(instance_id)["output"] == \
        "Orchestrator function 'NoYield' failed: Object of type AtomicTask is not JSON serializable"


def test_an_async_def_orchestrator_is_told_to_be_a_generator(host):
    _, line = failed(host, "AsyncOrchestrator")

    assert "Object of type coroutine is not JSON serializable (in AsyncOrchestrator/__init__.py). Hint: " \
           "orchestrators must be generators (`def` with `yield`), not `async def`" in line


def test_an_uncaught_activity_failure_names_the_activitys_line_and_the_orchestrators(host):
    instance_id, line = failed(host, "Chain")

    assert line.endswith(f"Orchestration Chain ({instance_id}) Failed: Activity function 'Raise' failed: "
                         "ValueError: cannot greet Seattle (at Chain/__init__.py:6)")
    activity = console_line(host, "Executed 'Functions.Raise' (Failed, ", "Seattle")
    assert activity.endswith("(Failed, ValueError: cannot greet Seattle (at Raise/__init__.py:5))")
    assert_no_library_frames(line + activity)
    assert host.status(instance_id)["output"].startswith(
        "Orchestrator function 'Chain' failed: Activity function 'Raise' failed:  ValueError: cannot greet Seattle \n "
        '{"$type":"System.Exception, System.Private.CoreLib"')  # the failure JSON is the extension's, unchanged


def test_an_activity_failure_the_orchestrator_catches_is_the_activitys_story_alone(host):
    instance_id = host.start_instance("CatchesRaise", {})

    assert host.wait(instance_id)["output"] == "caught"
    assert console_line(host, "Executed 'Functions.Raise' (Failed, ValueError: cannot greet caught (at "
                              "Raise/__init__.py:5))")
    assert console_line(host, f"Orchestration CatchesRaise ({instance_id}) Completed.")
    assert f"({instance_id}) Failed" not in host.log()


def test_a_failing_http_function_is_one_line_with_the_users_frame(host):
    assert host.http.get(host.url("/api/boom"), timeout=30).status_code == 500

    line = console_line(host, "Executed 'Functions.Boom' (Failed")

    assert line.endswith("Executed 'Functions.Boom' (Failed, RuntimeError: boom (at Boom/__init__.py:6))")
    after = host.log().split(line, 1)[1]
    assert "Traceback" not in after and 'raise RuntimeError("boom")' not in after  # the traceback: --verbose only


def test_the_whole_traceback_of_a_failing_http_function_comes_with_verbose(tmp_path):
    with DevhostProcess(APP, store=tmp_path / "store.sqlite", extra_args=("--verbose",)) as verbose:
        assert verbose.http.get(verbose.url("/api/boom"), timeout=30).status_code == 500
        console_line(verbose, "Executed 'Functions.Boom' (Failed, RuntimeError: boom (at Boom/__init__.py:6))")
        poll(lambda: 'raise RuntimeError("boom")' in verbose.log(), timeout=10, what="the traceback")
        assert "Traceback (most recent call last):" in verbose.log()


def test_a_missing_package_names_the_interpreter_and_how_to_install_the_requirements(host):
    line = console_line(host, "Enrich: not loaded")

    assert "ModuleNotFoundError: No module named 'devhost_example_missing_package' (at Enrich/__init__.py:2)" in line
    assert (f"The interpreter {sys.executable} has no module 'devhost_example_missing_package': install the app's "
            f"packages with `{sys.executable} -m pip install -r {APP / 'requirements.txt'}`") in line


def test_a_call_to_an_activity_that_failed_to_load_says_so(host):
    instance_id, line = failed(host, "CallsEnrich")

    assert "Failed: The function 'Enrich' doesn't exist, is disabled, or is not an activity function (in " \
           "CallsEnrich/__init__.py). 'Enrich' failed to load: ModuleNotFoundError: No module named " \
           "'devhost_example_missing_package' (at Enrich/__init__.py:2)" in line
    assert host.status(instance_id)["output"] == (  # the answer is the extension's
        "Orchestrator function 'CallsEnrich' failed: The function 'Enrich' doesn't exist, is disabled, or is not an "
        "activity function. Additional info: The following are the known activity functions: 'Raise'.")


def test_starting_an_orchestrator_that_failed_to_load_says_so_in_the_starters_story(host):
    assert host.http_start("Enrich", {}).status_code == 500

    line = console_line(host, "Executed 'Functions.HttpStart' (Failed, ")

    assert "The function 'Enrich' doesn't exist, is disabled, or is not an orchestrator function (at " \
           "HttpStart/__init__.py:9). 'Enrich' failed to load: ModuleNotFoundError" in line
    assert console_line(host, "devhost: The function 'Enrich' doesn't exist", "'Enrich' failed to load: ")
    assert_no_library_frames(line)


def test_an_entity_operation_failure_names_the_entitys_file(host):
    response = host.http.post(host.url("/runtime/webhooks/durabletask/entities/Counter/k"),
                              params={"op": "explode"}, timeout=30)
    assert response.status_code == 202

    assert console_line(host, "Error in operation 'explode' of entity @counter@k: 'no such counter' (in "
                              "Counter/__init__.py)")


def test_advance_without_time_travel_says_how_to_turn_it_on(host):
    response = host.http.post(host.url("/admin/devhost/advance"), params={"seconds": 60}, timeout=30)

    assert response.status_code == 404
    assert "start devhost with --time-travel" in response.json()["Message"]

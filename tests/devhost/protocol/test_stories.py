"""devhost.protocol.stories: a failure told in one console line, with the user's file:line and the hint for a common
mistake; the reason is the extension's text, cut to its first line."""
from __future__ import annotations

from devhost.protocol.stories import Storyteller, mistake_hint, reason_line

# The hints as the console shows them (pinned as text, not by the module's constants).
MISSING_YIELD = ("did you forget `yield` before context.call_activity(...)? An orchestrator yields each task it "
                 "awaits")
ASYNC_DEF = "orchestrators must be generators (`def` with `yield`), not `async def`"
from devhost.tracebacks import Frame

APP = "/home/me/app"
NOT_LOADED = "failed to load: ModuleNotFoundError: No module named 'pandas' (at Enrich/__init__.py:2)"
teller = Storyteller.of(APP, [("Enrich", NOT_LOADED), ("Old", "disabled")])


def test_a_failed_tasks_details_json_is_cut_off_and_spaces_made_one():
    assert reason_line("Activity function 'Raise' failed:  ValueError: boom \n {\"$type\": \"System.Exception\"}") \
        == "Activity function 'Raise' failed: ValueError: boom"


def test_a_task_the_orchestrator_did_not_yield_gets_the_missing_yield_hint():
    for task in ("AtomicTask", "WhenAllTask", "RetryAbleTask", "TimerTask"):
        assert mistake_hint(f"Object of type {task} is not JSON serializable") == MISSING_YIELD
    assert "`yield` before context.call_activity(...)" in MISSING_YIELD


def test_an_async_def_orchestrator_gets_the_generator_hint():
    assert mistake_hint("Object of type coroutine is not JSON serializable") == ASYNC_DEF
    assert mistake_hint("'async_generator' object has no attribute 'send'") == ASYNC_DEF
    assert "not `async def`" in ASYNC_DEF


def test_other_failures_get_no_hint():
    assert mistake_hint("ValueError: cannot greet Seattle") is None
    assert mistake_hint("Object of type datetime is not JSON serializable") is None
    assert mistake_hint("TypeError: a coroutine was expected") is None


def test_the_story_names_the_users_line_relative_to_the_script_root():
    where = Frame(f"{APP}/Chain/__init__.py", 6, "orchestrator_function")

    assert teller.tell("Activity function 'Raise' failed:  ValueError: boom \n {}", where) == \
        "Activity function 'Raise' failed: ValueError: boom (at Chain/__init__.py:6)"


def test_without_a_line_the_story_names_the_file_and_the_hint():
    assert teller.tell("Object of type AtomicTask is not JSON serializable", f"{APP}/NoYield/__init__.py") == \
        f"Object of type AtomicTask is not JSON serializable (in NoYield/__init__.py). Hint: {MISSING_YIELD}"


def test_a_call_to_a_function_that_failed_to_load_is_linked_to_its_load_error():
    reason = ("The function 'enrich' doesn't exist, is disabled, or is not an activity function. Additional info: "
              "The following are the known activity functions: 'Raise'.")

    assert teller.tell(reason) == f"The function 'enrich' doesn't exist, is disabled, or is not an activity " \
                                  f"function. 'enrich' {NOT_LOADED}"
    assert teller.load_error("The function 'Old' doesn't exist") == "'Old' is not loaded: disabled"
    unknown = reason.replace("enrich", "Nope")
    assert teller.tell(unknown) == unknown  # not one that failed to load: told as the extension words it


def test_a_file_whose_name_holds_a_colon_is_named_whole():
    assert Storyteller(None).shown("/tmp/odd:name.py") == "/tmp/odd:name.py"


def test_a_reasons_final_dot_gives_way_to_the_place_and_the_hint():
    teller = Storyteller(None)

    assert teller.tell("Boom in TAX.", Frame("/a/f.py", 3, "main")) == "Boom in TAX (at /a/f.py:3)"
    assert teller.tell("Object of type AtomicTask is not JSON serializable in TAX.") == \
        f"Object of type AtomicTask is not JSON serializable in TAX. Hint: {MISSING_YIELD}"

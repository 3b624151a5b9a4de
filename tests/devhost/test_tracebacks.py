"""devhost.tracebacks: the user's own frame of a traceback, with devhost's, installed libraries' (the SDK,
azure.functions) and the standard library's frames left out."""
from __future__ import annotations

import json
import os

import azure.durable_functions as df

import devhost
from devhost.tracebacks import LIBRARY_ROOTS, Frame, exception_text, frames, is_library, user_frame, without_host_paths

DEVHOST = os.path.dirname(devhost.__file__)
SDK = os.path.dirname(df.__file__)

# What the worker sends for an orchestrator whose activity failed: the SDK raises `from` the exception it threw
# into the user's generator, so the user's line is in the cause alone.
SDK_CHAIN = f'''Traceback (most recent call last):
  File "{SDK}/models/TaskOrchestrationExecutor.py", line 255, in resume_user_code
    new_task = self.generator.send(task_value)
  File "/home/me/app/Chain/__init__.py", line 6, in orchestrator_function
    greeting = yield context.call_activity("Raise", "Seattle")
Exception: Activity function 'Raise' failed:  ValueError: boom

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "{DEVHOST}/workers/process.py", line 391, in run
    outputs = invocation.call_sync(inputs)
  File "{SDK}/orchestrator.py", line 47, in handle
    return self.task_orchestration_executor.execute(context, context.histories, self.fn)
  File "{os.path.dirname(json.__file__)}/encoder.py", line 180, in default
    raise TypeError
Exception: Activity function 'Raise' failed: ...
'''


def test_the_users_line_is_found_in_the_cause_the_sdk_raises_from():
    assert user_frame(SDK_CHAIN) == Frame("/home/me/app/Chain/__init__.py", 6, "orchestrator_function")


def test_every_frame_is_read_in_the_order_printed():
    assert [f.line for f in frames(SDK_CHAIN)] == [255, 6, 391, 47, 180]


def test_devhost_installed_packages_the_standard_library_and_frozen_frames_are_not_the_users():
    assert is_library(f"{DEVHOST}/web/function_routes.py")
    assert is_library(f"{SDK}/entity.py")
    assert is_library("/srv/app/.python_packages/lib/site-packages/pandas/core.py")
    assert is_library(json.__file__)
    assert is_library("<frozen importlib._bootstrap>")
    assert not is_library("/home/me/app/Hello/__init__.py")
    assert all(root.endswith(os.sep) for root in LIBRARY_ROOTS)  # /usr/lib/python3.11x is not the stdlib


def test_no_user_frame_when_only_libraries_ran():
    assert user_frame(f'  File "{DEVHOST}/host.py", line 1, in start\n') is None
    assert user_frame("no traceback at all") is None


def test_an_exception_the_users_code_raised_from_another_is_told_where_it_was_raised():
    def user_code():
        raise ValueError("inner")

    def handler():
        try:
            user_code()
        except ValueError as exc:
            raise RuntimeError("outer") from exc

    try:
        handler()
    except RuntimeError as caught:
        text = exception_text(caught)

    assert "The above exception was the direct cause" in text
    found = user_frame(text, roots=())  # this test file lies in no library root
    assert (found.file, found.function) == (__file__, "handler")


def test_a_frame_is_shown_relative_to_the_script_root():
    frame = Frame("/home/me/app/Hello/__init__.py", 5, "main")

    assert frame.shown("/home/me/app") == "Hello/__init__.py:5"
    assert frame.shown("/elsewhere") == "/home/me/app/Hello/__init__.py:5"
    assert frame.shown() == "/home/me/app/Hello/__init__.py:5"


def test_a_stack_trace_names_devhosts_frames_from_the_package_and_keeps_the_users_paths():
    text = f'  File "{DEVHOST}/workers/process.py", line 465, in run\n' \
           f'  File "{os.path.realpath(DEVHOST)}/app/bindings.py", line 280, in call_sync\n' \
           '  File "/home/me/app/Flaky/__init__.py", line 10, in main\n' \
           f'  File "{SDK}/orchestrator.py", line 47, in handle\n'

    shown = without_host_paths(text)

    assert [f.file for f in frames(shown)] == ["devhost/workers/process.py", "devhost/app/bindings.py",
                                               "/home/me/app/Flaky/__init__.py", f"{SDK}/orchestrator.py"]


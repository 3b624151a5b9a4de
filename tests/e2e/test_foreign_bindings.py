"""Apps with bindings devhost does not serve, in real devhost processes: foreign outputs are accepted and dropped
with one warning, foreign triggers are listed as not loaded with the reason, and an empty start says why."""
from __future__ import annotations

import json
import textwrap

import pytest

FOLDER_APP = {
    "Notify/function.json": {"bindings": [
        {"name": "req", "type": "httpTrigger", "direction": "in", "authLevel": "anonymous", "route": "notify"},
        {"name": "$return", "type": "http", "direction": "out"},
        {"name": "sms", "type": "twilioSms", "direction": "out", "accountSidSetting": "TwilioSid"},
        {"name": "mail", "type": "sendGrid", "direction": "out", "apiKey": "SendGridKey"}]},
    "Notify/__init__.py": '''
        import azure.functions as func


        def main(req: func.HttpRequest, sms: func.Out[str], mail: func.Out[str]) -> func.HttpResponse:
            sms.set('{"body": "hi"}')
            mail.set('{"subject": "hi"}')
            return func.HttpResponse("sent")
    ''',
    "Worker/function.json": {"bindings": [{"name": "msg", "type": "queueTrigger", "direction": "in",
                                           "queueName": "work", "connection": "AzureWebJobsStorage"}]},
    "Worker/__init__.py": "def main(msg):\n    pass\n",
}


def write(root, files):
    root.mkdir(parents=True, exist_ok=True)
    (root / "host.json").write_text('{"version": "2.0"}')
    for path, content in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(content) if isinstance(content, dict) else textwrap.dedent(content)
        (root / path).write_text(text)
    return root


@pytest.fixture
def folder_app(tmp_path):
    return write(tmp_path / "app", FOLDER_APP)


def test_foreign_outputs_are_dropped_with_one_warning_each_and_the_function_runs(devhost_factory, folder_app):
    host = devhost_factory(folder_app).start()

    response = host.http.get(host.url("/api/notify"), timeout=10)

    assert (response.status_code, response.text) == (200, "sent")
    log = host.log()
    assert log.count("output binding 'sms' (twilioSms) is accepted and dropped") == 1
    assert log.count("output binding 'mail' (sendGrid) is accepted and dropped") == 1
    assert "\tWorker: not loaded (devhost cannot fire queueTrigger triggers)" in log


def test_a_v2_app_with_foreign_bindings_loads_the_same_way(devhost_factory, tmp_path):
    app = write(tmp_path / "v2", {"function_app.py": '''
        import azure.functions as func

        app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


        @app.route(route="notify")
        @app.generic_output_binding(arg_name="sms", type="twilioSms", accountSidSetting="TwilioSid")
        def notify(req: func.HttpRequest, sms: func.Out[str]) -> str:
            sms.set("hi")
            return "sent"


        @app.queue_trigger(arg_name="msg", queue_name="work", connection="AzureWebJobsStorage")
        def worker(msg: func.QueueMessage):
            pass
    '''})
    host = devhost_factory(app).start()

    response = host.http.post(host.url("/api/notify"), timeout=10)

    assert (response.status_code, response.text) == (200, "sent")
    assert host.log().count("output binding 'sms' (twilioSms) is accepted and dropped") == 1
    assert "\tworker: not loaded (devhost cannot fire queueTrigger triggers)" in host.log()


@pytest.mark.parametrize(("files", "why"), [
    ({}, "has neither function_app.py"),
    ({"function_app.py": "import missing_dependency\n"},
     "function_app.py: not loaded (failed to index: ModuleNotFoundError: No module named 'missing_dependency' (at "
     "function_app.py:1). The interpreter "),
    ({"function_app.py": "import azure.functions as func\napp = func.FunctionApp()\n"},
     "function_app.py declares no function"),
])
def test_a_start_with_no_function_loaded_says_why(devhost_factory, tmp_path, files, why):
    host = devhost_factory(write(tmp_path / "app", files)).start()

    assert "No functions loaded: " in host.log() and why in host.log()
    assert host.http_start("Anything").status_code == 404

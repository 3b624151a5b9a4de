"""The dashboard at /devhost/ in a real browser (Playwright driving the Chromium tests/conftest.py finds) against
devhost processes running the example apps: the list and its filters, a fan-out's and a failed instance's history and
timeline, every action (checked through the management API), entities, functions, deep links, phone width, keyboard,
no console errors (under its Content-Security-Policy), and no page of another origin can frame it. Set
DEVHOST_SCREENSHOTS=<folder> to save the screenshots the docs use."""
from __future__ import annotations

import json
import os
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect

from devhost.testing import DevhostProcess, poll, replay_histories

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "tests" / "apps"
WEBHOOK = "/runtime/webhooks/durabletask"
SHOTS = os.environ.get("DEVHOST_SCREENSHOTS")
TIMEOUT_MS = 15000
STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
              "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


class Tab:
    """A browser page that records console errors and uncaught exceptions; a test ends with none."""

    def __init__(self, browser: Browser, host: DevhostProcess, width: int = 1280, height: int = 900,
                 timezone_id: str | None = None) -> None:
        self.host = host
        self.context = browser.new_context(viewport={"width": width, "height": height}, timezone_id=timezone_id)
        # The page is served with a strict Content-Security-Policy (no inline script, style or handler): whatever
        # the dashboard does that the policy refuses is a console error, and the test fails.
        self.context.route(re.compile(r".*/devhost/(\?.*)?(#.*)?$|.*/devhost/instances/.*"), self._with_policy)
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    @staticmethod
    def _with_policy(route: Route) -> None:
        if route.request.resource_type != "document":
            route.continue_()
            return
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text}")

    def open(self, fragment: str = "", path: str = "/devhost/") -> Page:
        self.page.goto(self.host.url(path) + fragment)
        return self.page

    def shot(self, name: str, height: int | None = None, element: str | None = None) -> None:
        """Save a screenshot for the docs (only with DEVHOST_SCREENSHOTS): the viewport, the page's top `height`
        pixels, or one element."""
        if not SHOTS:
            return
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        path = str(Path(SHOTS) / name)
        if element:
            self.page.locator(element).screenshot(path=path)
        elif height:
            width = self.page.viewport_size["width"]
            self.page.screenshot(path=path, full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
        else:
            self.page.screenshot(path=path)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tabs(browser) -> Iterator[Any]:
    opened: list[Tab] = []

    def make(host: DevhostProcess, **kwargs: Any) -> Tab:
        tab = Tab(browser, host, **kwargs)
        opened.append(tab)
        return tab

    yield make
    errors = [e for tab in opened for e in tab.errors]
    for tab in opened:
        tab.close()
    assert errors == [], "the browser console reported errors"


def host_for(app: str) -> Any:
    @pytest.fixture(scope="module")
    def running() -> Iterator[DevhostProcess]:
        with DevhostProcess(APPS / app) as host:
            yield host
    return running


fan_out = host_for("fan_out_fan_in")
retries = host_for("retries")
waiting = host_for("human_interaction")
counters = host_for("counter_entity")
subs = host_for("sub_orchestrations")
waiter = host_for("waiter")
timers = host_for("timers")


def start(host: DevhostProcess, name: str, body: Any = None, instance_id: str | None = None) -> str:
    """Start through the management API (the webhook's start route), with a chosen id when given."""
    url = host.url(f"{WEBHOOK}/orchestrators/{name}" + (f"/{instance_id}" if instance_id else ""))
    response = requests.post(url, json=body, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def status(host: DevhostProcess, instance_id: str) -> requests.Response:
    return host.status_response(instance_id, showHistory=True)


def rows(page: Page, table: str = "#instances") -> list[str]:
    return page.locator(f"{table} tbody tr[data-instance-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.instanceId)")


# -- the instances list ------------------------------------------------------------------------------------------
def test_the_list_shows_every_instance_and_filters_them(fan_out, tabs):
    tag = uuid.uuid4().hex[:8]
    ids = [start(fan_out, "FanOutFanIn", {"count": n}, f"{tag}-fan-{n}") for n in (2, 3, 4)]
    for i in ids:
        assert fan_out.wait(i)["runtimeStatus"] == "Completed"
    tab = tabs(fan_out)
    page = tab.open()

    expect(page.locator(f'#instances tr[data-instance-id="{ids[-1]}"]')).to_be_visible()
    assert set(ids) <= set(rows(page))
    row = page.locator(f'#instances tr[data-instance-id="{ids[0]}"]')
    expect(row.locator(".badge")).to_have_text("Completed")
    expect(row.locator("td").nth(1)).to_have_text("FanOutFanIn")

    page.get_by_label("Instance ID prefix").fill(f"{tag}-fan-3")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#instances tbody tr[data-instance-id]")).to_have_count(1)
    assert rows(page) == [f"{tag}-fan-3"]

    page.get_by_label("Instance ID prefix").fill(tag)
    page.get_by_label("Status").select_option("Failed")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#instances td.empty")).to_have_text("No instances match.")

    page.get_by_label("Status").select_option("Completed")
    page.get_by_label("Name").fill("fanout")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#instances tbody tr[data-instance-id]")).to_have_count(3)

    page.get_by_label("Name").fill("SomethingElse")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#instances td.empty")).to_be_visible()


def test_the_created_time_range_and_paging(fan_out, tabs):
    tag = uuid.uuid4().hex[:8]
    ids = [start(fan_out, "FanOutFanIn", {"count": 1}, f"{tag}-page-{n}") for n in range(5)]
    for i in ids:
        fan_out.wait(i)
    tab = tabs(fan_out)
    page = tab.open(f"#/instances?prefix={tag}&top=10&from=2000-01-01T00:00:00.000Z&to=2001-01-01T00:00:00.000Z")
    expect(page.locator("#instances td.empty")).to_be_visible()

    page = tab.open(f"#/instances?prefix={tag}&top=10&from=2000-01-01T00:00:00.000Z")
    expect(page.locator("#instances tbody tr[data-instance-id]")).to_have_count(5)
    assert page.get_by_label("Created from").input_value().startswith("2000-01-01") or \
        page.get_by_label("Created from").input_value().startswith("1999-12-31")  # shown in the browser's zone

    page = tab.open(f"#/instances?prefix={tag}&top=2")
    seen = []
    expect(page.locator("#instances tbody tr[data-instance-id]")).to_have_count(2)
    seen += rows(page)
    page.get_by_role("button", name="Next page →").click()
    expect(page.locator("#instances caption")).to_contain_text("page 2 of 3")
    seen += rows(page)
    page.get_by_role("button", name="Next page →").click()
    expect(page.locator("#instances caption")).to_contain_text("page 3 of 3")
    seen += rows(page)
    assert seen == ids[::-1]  # newest first
    expect(page.get_by_role("button", name="Next page →")).to_be_disabled()
    page.get_by_role("button", name="← Previous page").click()
    expect(page.locator("#instances caption")).to_contain_text("page 2")
    assert rows(page) == ids[::-1][2:4]


def test_the_list_refreshes_on_its_own_while_an_instance_runs(waiting, tabs):
    instance_id = start(waiting, "ApprovalWorkflow", {"item": "refresh"})
    tab = tabs(waiting)
    page = tab.open(f"#/instances?prefix={instance_id}")
    badge = page.locator(f'#instances tr[data-instance-id="{instance_id}"] .badge')
    expect(badge).to_have_text(re.compile("Pending|Running"))

    assert waiting.raise_event(instance_id, "Approval", True).status_code == 202  # nobody touches the page

    expect(badge).to_have_text("Completed")


def test_each_status_has_its_own_colour(waiting, tabs):
    tag = uuid.uuid4().hex[:6]
    ids = {kind: start(waiting, "ApprovalWorkflow", {"item": kind}, f"{tag}-{kind}")
           for kind in ("completed", "terminated", "suspended", "running")}
    for instance_id in ids.values():
        poll(lambda: "TaskCompleted" in waiting.event_kinds(instance_id), what="the approval request to go out")
    waiting.raise_event(ids["completed"], "Approval", {"approved": True})
    waiting.post_op(ids["terminated"], "terminate", reason="not needed")
    waiting.post_op(ids["suspended"], "suspend", reason="later")
    for kind in ("completed", "terminated"):
        waiting.wait(ids[kind])
    tab = tabs(waiting)
    page = tab.open(f"#/instances?prefix={tag}")

    badges = {kind: page.locator(f'#instances tr[data-instance-id="{instance_id}"] .badge')
              for kind, instance_id in ids.items()}
    for kind, badge in badges.items():
        expect(badge).to_have_text(kind.capitalize())
    colours = {kind: badge.evaluate("b => getComputedStyle(b).backgroundColor") for kind, badge in badges.items()}
    assert len(set(colours.values())) == 4, colours
    # the total and the count of each status, each a link to the list of that status
    expect(page.locator("#total")).to_have_text("4 instances match")
    counts = page.locator("#counts a[data-status]")
    expect(counts).to_have_count(4)
    assert sorted(counts.all_inner_texts()) == ["Completed 1", "Running 1", "Suspended 1", "Terminated 1"]
    page.locator('#counts a[data-status="Suspended"]').click()
    expect(page.locator("#instances tbody tr[data-instance-id]")).to_have_count(1)
    assert rows(page) == [ids["suspended"]]
    expect(page.locator("#total")).to_have_text("1 instance matches")  # singular
    page = tab.open(f"#/instances?prefix={tag}")
    expect(page.locator("#total")).to_have_text("4 instances match")
    tab.shot("dashboard-instances.png")
    waiting.post_op(ids["running"], "terminate", reason="cleanup")
    waiting.post_op(ids["suspended"], "terminate", reason="cleanup")


# -- an instance -----------------------------------------------------------------------------------------------
def test_a_fan_out_shows_its_history_and_timeline(fan_out, tabs):
    instance_id = start(fan_out, "FanOutFanIn", {"count": 6})
    assert fan_out.wait(instance_id)["output"] == {"count": 6, "sum": 55}
    tab = tabs(fan_out)
    page = tab.open(f"#/instances/{instance_id}")

    expect(page.locator("h1")).to_contain_text(instance_id)
    expect(page.locator(".summary .badge")).to_have_text("Completed")
    expect(page.locator("#history tbody tr")).to_have_count(8)  # started, 6 TaskCompleted, completed
    expect(page.locator("#history tbody tr").nth(1)).to_contain_text("TaskCompleted")
    expect(page.locator(".timeline li.row.kind-activity")).to_have_count(6)
    assert page.locator(".timeline li.row.kind-activity .label").all_inner_texts()[0].endswith("Square")
    output = json.loads(page.locator("#output-title + .json pre").inner_text())
    assert output == {"count": 6, "sum": 55}
    # durations come from 7-digit history timestamps: the fraction is shown
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3}", page.locator("#history tbody tr").nth(1).inner_text())
    expect(page.locator(".timeline figcaption")).to_contain_text("Timeline: 6 bars over")
    tab.shot("dashboard-instance.png", height=1500)


def test_download_history_saves_the_json_the_replay_check_reads(waiting, tabs, tmp_path):
    instance_id = start(waiting, "ApprovalWorkflow", {"item": "desk"})
    poll(lambda: "TaskCompleted" in waiting.event_kinds(instance_id), what="the approval request sent")
    page = tabs(waiting).open(f"#/instances/{instance_id}")
    expect(page.locator("#history tbody tr")).to_have_count(2)  # started, TaskCompleted

    with page.expect_download() as downloading:
        page.locator("#download-history").click()
    saved = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(saved)

    assert saved.name == f"{instance_id}.json"
    assert json.loads(saved.read_text()) == waiting.export(instance_id)  # exactly the status answer, history and all
    [result] = replay_histories(APPS / "human_interaction", saved)
    assert (result["instanceId"], result["ok"], result["events"]) == (instance_id, True, 2)


def test_a_failed_instance_shows_failures_and_retries(retries, tabs, tmp_path):
    instance_id = start(retries, "RetryActivity", {"dir": str(tmp_path), "failures": 5, "attempts": 3,
                                                   "interval_ms": 50})
    final = retries.wait(instance_id, timeout=30)
    assert final["runtimeStatus"] == "Failed"
    tab = tabs(retries)
    page = tab.open(f"#/instances/{instance_id}")

    expect(page.locator(".summary .badge")).to_have_text("Failed")
    # readable first: the message without the .NET exception's JSON, and the user's own frames alone
    message = page.locator(".instance-failure .failure-message")
    expect(message).to_contain_text("attempt 3 failed")
    assert "$type" not in message.inner_text() and "\\n" not in message.inner_text()
    stack = page.locator(".instance-failure .stack")
    expect(stack).to_contain_text('raise ValueError(f"attempt {attempt} failed")')
    assert stack.inner_text().lstrip().startswith('File "') and "/apps/retries/" in stack.inner_text()
    assert not re.search(r"devhost/(workers|protocol|runtime)|site-packages|azure/", stack.inner_text())
    expect(page.locator(".instance-failure small")).to_contain_text("left out")
    # the raw text, as the API returns it, behind a toggle
    raw = page.locator(".instance-failure details.raw-failure")
    expect(raw.locator("pre")).to_be_hidden()
    raw.locator("summary").click()
    expect(raw.locator("pre")).to_contain_text('{"$type":"System.Exception')
    expect(page.locator(".failed-event")).to_have_count(3)
    # a TaskFailed's Details is the extension's JSON of a .NET exception; the page shows the Python stack it carries
    expect(page.locator(".failed-event .failure-message").first).to_contain_text("ValueError: attempt 1 failed")
    expect(page.locator(".failed-event .stack").first).to_contain_text('raise ValueError(f"attempt {attempt} failed")')
    failed_bars = page.locator('.timeline li.row[data-failed="true"]')
    expect(failed_bars).to_have_count(3)
    # the waits between attempts, and the shim's zero-length timer after the last failure (as the extension's)
    expect(page.locator(".timeline li.row.kind-timer")).to_have_count(3)
    assert page.locator(".timeline .retry").all_inner_texts() == [" retry 1", " retry 2"]
    expect(page.locator("#history tbody tr.failed")).to_have_count(4)  # 3 TaskFailed and the failed completion
    expect(page.get_by_role("button", name="Rewind")).to_be_enabled()
    expect(page.get_by_role("button", name="Suspend")).to_be_disabled()
    tab.shot("dashboard-failed-timeline.png", element="section:has(#timeline-title)")


def test_sub_orchestrations_link_to_their_children_and_back_to_the_parent(subs, tabs):
    parent_id = subs.start_instance("Parent", ["Tokyo", "Lima"])  # through the app: the SDK encodes the list
    final = subs.wait(parent_id)
    assert final["runtimeStatus"] == "Completed"
    children = sorted(r["instanceId"] for r in final["output"])
    tab = tabs(subs)
    page = tab.open(f"#/instances/{parent_id}")

    expect(page.locator(".timeline li.row.kind-suborchestration")).to_have_count(2)
    links = page.locator(".timeline li.row.kind-suborchestration a")
    expect(links).to_have_count(2)
    hrefs = sorted(links.evaluate_all("as => as.map(a => decodeURIComponent(a.hash.replace('#/instances/', '')))"))
    assert hrefs == children

    links.first.click()
    expect(page.locator("h1")).to_contain_text(re.compile("|".join(map(re.escape, children))))
    parent_link = page.locator(".summary dd a", has_text=parent_id)
    expect(parent_link).to_be_visible()
    parent_link.click()
    expect(page.locator("h1")).to_contain_text(parent_id)


def test_a_deep_link_opens_the_right_instance(fan_out, tabs):
    first = start(fan_out, "FanOutFanIn", {"count": 1})
    second = start(fan_out, "FanOutFanIn", {"count": 2})
    fan_out.wait(first), fan_out.wait(second)
    tab = tabs(fan_out)

    page = tab.open(f"#/instances/{second}")
    expect(page.locator("h1")).to_contain_text(second)
    page = tab.open("", path=f"/devhost/instances/{first}")
    expect(page.locator("h1")).to_contain_text(first)
    assert page.url.endswith(f"/devhost/#/instances/{first}")
    page.go_back()
    expect(page.locator("h1")).to_contain_text(second)


# -- actions, each checked through the management API ---------------------------------------------------------
def confirm(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).first.click()
    dialog = page.locator("dialog#confirm")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=button, exact=True).click()


def waiting_instance(host: DevhostProcess) -> str:
    instance_id = start(host, "ApprovalWorkflow", {"item": uuid.uuid4().hex[:6]})
    poll(lambda: "TaskCompleted" in host.event_kinds(instance_id), timeout=10, what="the approval request to go out")
    return instance_id


def test_suspend_resume_raise_event_and_terminate(waiting, tabs):
    instance_id = waiting_instance(waiting)
    tab = tabs(waiting)
    page = tab.open(f"#/instances/{instance_id}")
    expect(page.locator(".summary .badge")).to_have_text("Running")

    page.get_by_label("Reason (terminate, suspend, resume, rewind)").fill("coffee break")
    confirm(page, "Suspend")
    expect(page.locator("#action-result")).to_contain_text("Suspend: HTTP 202")
    poll(lambda: waiting.status(instance_id)["runtimeStatus"] == "Suspended", what="Suspended")
    expect(page.locator(".summary .badge")).to_have_text("Suspended")

    confirm(page, "Resume")
    expect(page.locator("#action-result")).to_contain_text("Resume: HTTP 202")
    poll(lambda: waiting.status(instance_id)["runtimeStatus"] == "Running", what="Running")

    page.get_by_label("Event name").fill("Approval")
    page.get_by_label("Event data (JSON)").fill('{"approved": true, "by": "dashboard"}')
    confirm(page, "Raise event")
    expect(page.locator("#action-result")).to_contain_text("Raise event: HTTP 202")
    final = waiting.wait(instance_id)
    assert final["output"]["decision"] == {"approved": True, "by": "dashboard"}
    expect(page.locator(".summary .badge")).to_have_text("Completed")
    kinds = waiting.event_kinds(instance_id)
    assert "ExecutionSuspended" in kinds and "ExecutionResumed" in kinds and "EventRaised" in kinds

    other = waiting_instance(waiting)
    page = tab.open(f"#/instances/{other}")
    page.get_by_label("Reason (terminate, suspend, resume, rewind)").fill("not needed")
    confirm(page, "Terminate")
    expect(page.locator("#action-result")).to_contain_text("Terminate: HTTP 202")
    terminated = waiting.wait(other)
    assert (terminated["runtimeStatus"], terminated["output"]) == ("Terminated", "not needed")
    expect(page.locator(".summary .badge")).to_have_text("Terminated")


def test_bad_event_json_is_refused_before_anything_is_sent(waiting, tabs):
    instance_id = waiting_instance(waiting)
    tab = tabs(waiting)
    page = tab.open(f"#/instances/{instance_id}")
    page.get_by_label("Event name").fill("Approval")
    page.get_by_label("Event data (JSON)").fill("{not json")
    page.get_by_role("button", name="Raise event").click()

    expect(page.locator("#action-result")).to_contain_text("Not valid JSON")
    assert "EventRaised" not in waiting.event_kinds(instance_id)
    cancelled = page.get_by_role("button", name="Terminate")
    cancelled.click()
    page.locator("dialog#confirm").get_by_role("button", name="Cancel").click()  # a cancelled action sends nothing
    assert waiting.status(instance_id)["runtimeStatus"] == "Running"
    waiting.post_op(instance_id, "terminate", reason="cleanup")


def test_rewind_restart_and_purge(waiter, tabs, tmp_path):
    marker = tmp_path / "first-attempt.marker"
    instance_id = start(waiter, "Flaky", {"marker": str(marker)})
    assert waiter.wait(instance_id)["runtimeStatus"] == "Failed"
    tab = tabs(waiter)
    page = tab.open(f"#/instances/{instance_id}")

    confirm(page, "Rewind")
    expect(page.locator("#action-result")).to_contain_text("Rewind: HTTP 202")
    expect(page.locator(".summary .badge")).to_have_text("Completed")
    assert waiter.wait(instance_id)["output"] == ["before", "recovered"]
    assert "TaskFailed" not in waiter.event_kinds(instance_id)

    confirm(page, "Restart")  # under a new id (the checkbox is on)
    expect(page.locator("#action-result")).to_contain_text("Restart: HTTP 202")
    new_id = page.locator("#action-result p a").inner_text()
    assert new_id != instance_id
    assert waiter.wait(new_id)["output"] == ["before", "recovered"]  # the marker is there: no failure this time

    page.get_by_label("Restart under a new ID").uncheck()
    def started() -> str:  # ExecutionStarted, to the 100 ns; none yet while the restarted run is Pending
        history = waiter.history(instance_id)
        return history[0]["Timestamp"] if history else ""

    first_run = started()
    confirm(page, "Restart")  # the same id: a fresh run, started anew
    expect(page.locator("#action-result")).to_contain_text(f'"id": "{instance_id}"')
    poll(lambda: started() != first_run and waiter.status(instance_id)["runtimeStatus"] == "Completed",
         what="the restarted run")

    page = tab.open(f"#/instances/{new_id}")
    expect(page.locator(".summary .badge")).to_have_text("Completed")
    expect(page.locator("#history tbody tr")).not_to_have_count(0)
    confirm(page, "Purge")
    expect(page.locator("#action-result")).to_contain_text("Purge: HTTP 200")
    expect(page.locator("#action-result")).to_contain_text('"instancesDeleted": 1')
    assert waiter.status_response(new_id).status_code == 404
    # the page shows what is now true: no instance, none of its old data, nothing left to do
    expect(page.locator("main [role=alert]")).to_contain_text("There is no instance with this ID")
    expect(page.locator("#history")).to_have_count(0)
    expect(page.locator(".timeline")).to_have_count(0)
    expect(page.locator(".summary .badge")).to_have_count(0)
    expect(page.get_by_role("button", name="Purge", exact=True)).to_be_disabled()


def test_start_a_new_orchestration_from_the_page(fan_out, tabs):
    tab = tabs(fan_out)
    page = tab.open("#/start")
    options = page.locator("#orchestrators option").evaluate_all("os => os.map(o => o.value)")
    assert options == ["FanOutFanIn", "FirstResponse"]  # the app's orchestrators, from GET /admin/functions
    page.get_by_label("Orchestrator").fill("FanOutFanIn")
    instance_id = f"from-page-{uuid.uuid4().hex[:6]}"
    page.get_by_label("Instance ID (optional)").fill(instance_id)
    page.get_by_label("Input (JSON, optional)").fill('{"numbers": [1, 2, 3]}')
    confirm(page, "Start")

    expect(page.locator(".answer")).to_contain_text("Start: HTTP 202")
    assert fan_out.wait(instance_id)["output"] == {"count": 3, "sum": 14}
    page.get_by_role("link", name=instance_id).click()
    expect(page.locator(".summary .badge")).to_have_text("Completed")


# -- entities and functions ------------------------------------------------------------------------------------
def test_entities_show_their_state_and_take_signals(counters, tabs):
    key = uuid.uuid4().hex[:8]
    url = counters.url(f"{WEBHOOK}/entities/Counter/{key}")
    assert requests.post(url, params={"op": "add"}, json="5", timeout=10).status_code == 202
    poll(lambda: requests.get(url, timeout=10).status_code == 200, what="the counter's state")
    tab = tabs(counters)
    page = tab.open("#/entities")

    row = page.locator(f'#entities tr[data-entity="counter/{key}"]')
    expect(row.locator("td.state pre")).to_have_text("5")
    expect(row.locator("time")).to_have_text(re.compile(r"\d\d:\d\d:\d\d\.\d{3} UTC"))

    row.get_by_role("button", name="Signal…").click()
    expect(page.get_by_label("Entity key")).to_have_value(key)
    expect(page.get_by_label("Operation", exact=True)).to_be_focused()
    page.get_by_label("Operation", exact=True).fill("add")
    page.get_by_label("Operation input (JSON, optional)").fill("3")
    confirm(page, "Send signal")
    expect(page.locator("#signal .answer")).to_contain_text("Signal: HTTP 202")
    poll(lambda: requests.get(url, timeout=10).json() == 8, what="the signal to be applied")
    expect(row.locator("td.state pre")).to_have_text("8")

    page = tab.open("#/entities?name=Counter")
    expect(page.locator(f'#entities tr[data-entity="counter/{key}"]')).to_be_visible()


def test_functions_show_triggers_bindings_and_what_was_not_loaded(tabs):
    with DevhostProcess(ROOT / "tests" / "devhost" / "fixtures" / "apps" / "loader_app") as host:
        tab = tabs(host)
        page = tab.open("#/functions")

        greeter = page.locator("#functions tr", has_text="Greeter")
        expect(greeter).to_contain_text("[GET]")
        expect(greeter).to_contain_text(f"{host.port}/api/greet/{{name}}")
        expect(greeter.locator("ul.bindings li")).to_have_count(2)
        expect(page.locator("#functions tr", has_text="Orchestrator")).to_contain_text("orchestrationTrigger")
        expect(page.locator("#not-loaded")).to_contain_text("QueueWorker: not loaded (devhost cannot fire queueTrigger triggers)")
        expect(page.locator("#not-loaded")).to_contain_text("Broken: not loaded")
        page.close()


def test_with_keys_required_the_dashboard_passes_its_own_code_on(tabs):
    with DevhostProcess(APPS / "fan_out_fan_in", require_key=True) as host:
        assert host.keys is not None
        instance_id = start_keyed(host, "FanOutFanIn", {"count": 2})
        host.wait(instance_id)
        tab = tabs(host)

        assert requests.get(host.url("/devhost/"), timeout=10).status_code == 401  # the page needs a key
        assert requests.get(host.url("/devhost/api/instances"), timeout=10).status_code == 401  # so does its API
        assert requests.get(host.url("/devhost/app.js"), timeout=10).status_code == 200  # its scripts do not
        page = tab.open(f"?code={host.keys.system_key}#/instances/{instance_id}")
        expect(page.locator(".summary .badge")).to_have_text("Completed")
        confirm(page, "Purge")
        expect(page.locator("#action-result")).to_contain_text("Purge: HTTP 200")
        assert host.status_response(instance_id).status_code == 404
        page.close()


def start_keyed(host: DevhostProcess, name: str, body: Any) -> str:
    response = host.http.post(host.url(f"{WEBHOOK}/orchestrators/{name}"), json=body, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()["id"]


# -- usable and accessible ---------------------------------------------------------------------------------------
def test_phone_width_keyboard_and_labels(fan_out, tabs):
    instance_id = start(fan_out, "FanOutFanIn", {"count": 3})
    fan_out.wait(instance_id)
    tab = tabs(fan_out, width=390, height=844)
    for fragment in ("", f"#/instances/{instance_id}", "#/entities", "#/functions", "#/start"):
        page = tab.open(fragment)
        page.locator("main h1").wait_for()
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{fragment or 'list'} scrolls sideways by {overflow}px at a phone's width"
        unlabelled = page.evaluate("""[...document.querySelectorAll('main input, main select, main textarea')]
            .filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')).map(c => c.name)""")
        assert unlabelled == [], f"controls without a label on {fragment or 'list'}"
        unnamed = page.evaluate("""[...document.querySelectorAll('button, a')]
            .filter(b => !b.textContent.trim() && !b.getAttribute('aria-label')).length""")
        assert unnamed == 0
    page = tab.open(f"#/instances?prefix={instance_id}")
    link = page.get_by_role("link", name=instance_id)
    expect(link).to_be_visible()
    tab.shot("dashboard-phone.png")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text(instance_id)
    page.keyboard.press("Tab")  # the view took the focus: the next stop is its first link
    expect(page.get_by_role("link", name="← Instances")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_have_text("Instances")


# -- no other site can frame it (clickjacking) -------------------------------------------------------------------
@pytest.fixture
def framing_site(fan_out) -> Iterator[str]:
    """Another origin (another port of 127.0.0.1) whose page frames the dashboard, as a clickjacking page would."""
    page = (f'<!doctype html><title>another site</title><h1>Win a prize</h1>'
            f'<iframe id="victim" src="{fan_out.url("/devhost/")}" width="800" height="600"></iframe>').encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()


def test_a_page_of_another_origin_cannot_frame_the_dashboard(fan_out, framing_site, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(framing_site)  # "load" waits for the frame too, whether it loaded or was refused
        frame = page.frame_locator("#victim")
        expect(page.locator("h1")).to_have_text("Win a prize")

        poll(lambda: any("frame-ancestors" in line for line in console), timeout=TIMEOUT_MS / 1000,
             what=f"Chromium to report the refused frame; console: {console}")
        expect(frame.locator("header.top")).to_have_count(0)  # nothing of the dashboard is in the frame
        child = next(f for f in page.frames if f != page.main_frame)
        assert not child.url.startswith(fan_out.url("/devhost/")), child.url
    finally:
        context.close()


# -- the list: newest first, sorting, bulk actions ---------------------------------------------------------------
def test_an_instance_just_started_is_on_the_first_page_and_columns_sort(fan_out, tabs):
    tag = uuid.uuid4().hex[:8]
    ids = [start(fan_out, "FanOutFanIn", {"count": 1}, f"{tag}-{n:02d}") for n in range(12)]
    for i in ids:
        fan_out.wait(i)
    tab = tabs(fan_out)
    page = tab.open("#/instances?top=10")  # more instances than a page: the newest is on page 1, first
    expect(page.locator("#instances tbody tr[data-instance-id]").first).to_have_attribute("data-instance-id", ids[-1])
    expect(page.locator('#instances th[aria-sort="descending"]')).to_have_text(re.compile("^Created"))

    page = tab.open(f"#/instances?prefix={tag}&top=10")
    expect(page.locator("#total")).to_have_text("12 instances match")
    assert rows(page) == ids[::-1][:10]
    page.locator('#instances th a[data-sort="createdTime"]').click()  # the sorted column again: the other way
    expect(page.locator('#instances th[aria-sort="ascending"]')).to_have_text(re.compile("^Created"))
    expect(page.locator("#instances tbody tr[data-instance-id]").first).to_have_attribute("data-instance-id", ids[0])
    assert rows(page) == ids[:10]
    page.get_by_role("button", name="Next page →").click()
    expect(page.locator("#page-label")).to_have_text("Page 2 of 2")
    assert rows(page) == ids[10:]
    for key in ("name", "runtimeStatus", "lastUpdatedTime"):
        page.locator(f'#instances th a[data-sort="{key}"]').click()
        expect(page.locator("#instances th[aria-sort]")).to_have_count(1)
        expect(page.locator("#instances th[aria-sort] a")).to_have_attribute("data-sort", key)
        expect(page.locator("#page-label")).to_have_text("Page 1 of 2")
    assert "sort=lastUpdatedTime" in page.url and "order=desc" not in page.url  # newest first is the default
    assert set(rows(page)) <= set(ids)


def test_terminate_and_purge_everything_the_filter_matches(waiting, tabs):
    tag = uuid.uuid4().hex[:6]
    ids = [start(waiting, "ApprovalWorkflow", {"item": n}, f"{tag}-bulk-{n}") for n in range(3)]
    other = start(waiting, "ApprovalWorkflow", {"item": "other"})  # not matched: left alone
    for instance_id in ids + [other]:
        poll(lambda: "TaskCompleted" in waiting.event_kinds(instance_id), what="the approval request to go out")
    tab = tabs(waiting)
    page = tab.open(f"#/instances?prefix={tag}")
    expect(page.locator("#total")).to_have_text("3 instances match")
    expect(page.locator('[data-action="purge-matching"]')).to_be_disabled()  # nothing finished yet

    page.locator('[data-action="terminate-matching"]').click()
    expect(page.locator("#confirm-text")).to_have_text("Terminate 3 unfinished instances matching the filter?")
    page.locator("dialog#confirm").get_by_role("button", name="Terminate all").click()
    expect(page.locator("#bulk-result")).to_contain_text("Terminated 3 of 3 instances.")
    for instance_id in ids:
        assert waiting.wait(instance_id)["runtimeStatus"] == "Terminated"
    assert waiting.status(other)["runtimeStatus"] == "Running"

    purge = page.locator('[data-action="purge-matching"]')
    expect(purge).to_have_text("Purge 3 finished instances")
    purge.click()
    expect(page.locator("#confirm-text")).to_contain_text("Purge 3 finished instances matching the filter")
    page.locator("dialog#confirm").get_by_role("button", name="Purge all").click()
    expect(page.locator("#bulk-result")).to_contain_text("Purged 3 of 3 instances.")
    assert [waiting.status_response(i).status_code for i in ids] == [404, 404, 404]
    expect(page.locator("#total")).to_have_text("0 instances match")
    expect(page.locator("#instances td.empty")).to_be_visible()
    assert waiting.status(other)["runtimeStatus"] == "Running"
    waiting.post_op(other, "terminate", reason="cleanup")


# -- an instance: timers, long histories, plurals ---------------------------------------------------------------
def test_a_day_long_timer_shows_its_date_and_length_and_is_not_striped_once_cancelled(timers, tabs):
    instance_id = start(timers, "ApprovalWithTimeout", {"timeout": 86400})
    poll(lambda: "TimerCreated" in timers.event_kinds(instance_id), what="the day-long timer")
    tab = tabs(timers)
    page = tab.open(f"#/instances/{instance_id}")
    bar = page.locator(".timeline li.row.kind-timer")
    expect(bar).to_have_class(re.compile(r"\bopen\b"))  # waiting: striped, still running
    fire_at = [e for e in timers.history(instance_id) if e["EventType"] == "TimerCreated"][0]["FireAt"]
    day = fire_at[:10]
    expect(bar.locator(".label")).to_contain_text(re.compile(rf"24 h 0 min until {day} \d\d:\d\d:\d\d"))

    assert timers.raise_event(instance_id, "Approval", True).status_code == 202
    assert timers.wait(instance_id)["runtimeStatus"] == "Completed"
    expect(page.locator(".summary .badge")).to_have_text("Completed")
    expect(bar).to_have_class(re.compile(r"\bcancelled\b"))
    expect(bar).not_to_have_class(re.compile(r"\bopen\b"))
    assert "cancelled" in bar.locator(".bar").get_attribute("aria-label")
    expect(page.locator(".legend")).to_contain_text("Striped: still running")


def test_a_long_history_is_paged_and_one_bar_is_one_bar(fan_out, tabs):
    instance_id = start(fan_out, "FanOutFanIn", {"count": 20})
    fan_out.wait(instance_id)
    tab = tabs(fan_out)
    page = tab.open(f"#/instances/{instance_id}")
    expect(page.locator("#history tbody tr")).to_have_count(20)
    expect(page.locator("#history caption")).to_have_text("History: 22 events, events 1–20 of 22")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 3000, f"the page of a 20-activity fan-out is {height}px high"
    page.get_by_role("button", name="Later events →").click()
    expect(page.locator("#history tbody tr")).to_have_count(2)
    expect(page.locator("#history tbody tr").last).to_contain_text("ExecutionCompleted")
    page.get_by_role("button", name="← Earlier events").click()
    expect(page.locator("#history tbody tr")).to_have_count(20)

    single = start(fan_out, "FanOutFanIn", {"count": 1})
    fan_out.wait(single)
    page = tab.open(f"#/instances/{single}")
    expect(page.locator(".timeline figcaption")).to_contain_text("Timeline: 1 bar over")
    expect(page.locator("#history caption")).to_have_text("History: 3 events")
    expect(page.get_by_role("button", name="Later events →")).to_have_count(0)


# -- times: UTC or local, labelled, remembered ----------------------------------------------------------------
def test_times_are_labelled_with_their_zone_and_the_choice_is_remembered(fan_out, tabs):
    instance_id = start(fan_out, "FanOutFanIn", {"count": 1})
    created = fan_out.wait(instance_id)["createdTime"]  # "2024-05-01T12:00:00Z"
    tab = tabs(fan_out, timezone_id="Asia/Tokyo")
    page = tab.open(f"#/instances?prefix={instance_id}")
    cell = page.locator(f'#instances tr[data-instance-id="{instance_id}"] td[data-label="Created"] time')
    expect(cell).to_have_text(re.compile(r" UTC\+09:00$"))  # local time by default, with its offset

    page.get_by_label("Times in").select_option("utc")
    expect(cell).to_have_text(f"{created[:10]} {created[11:19]} UTC")
    expect(page.get_by_label("Created from (UTC)")).to_be_visible()
    page = tab.open(f"#/instances/{instance_id}")  # remembered in localStorage
    expect(page.get_by_label("Times in")).to_have_value("utc")
    expect(page.locator("#history thead")).to_contain_text("Time (UTC)")
    expect(page.locator("#history tbody tr time").first).to_have_text(re.compile(r"\.\d{3} UTC$"))
    page.get_by_label("Times in").select_option("local")
    expect(page.locator("#history tbody tr time").first).to_have_text(re.compile(r"\.\d{3} UTC\+09:00$"))


# -- an entity: detail and delete -------------------------------------------------------------------------------
def test_an_entity_has_its_own_page_with_delete(counters, tabs):
    key = uuid.uuid4().hex[:8]
    url = counters.url(f"{WEBHOOK}/entities/Counter/{key}")
    assert requests.post(url, params={"op": "add"}, json="7", timeout=10).status_code == 202
    poll(lambda: requests.get(url, timeout=10).status_code == 200, what="the counter's state")
    tab = tabs(counters)
    page = tab.open("#/entities")
    page.locator(f'#entities tr[data-entity="counter/{key}"] a', has_text=key).click()

    expect(page.locator("main h1")).to_have_text(f"Entity counter/{key}")
    detail = page.locator(".entity-detail")
    expect(detail.locator("dd.state pre")).to_have_text("7")
    expect(detail.locator("time")).to_have_text(re.compile(r"\d\d:\d\d:\d\d\.\d{3} UTC"))
    tab.shot("dashboard-entity.png", element="main")
    confirm(page, "Delete")
    expect(page.locator("#confirm-text")).to_be_hidden()
    expect(page.locator("#action-result")).to_contain_text("Delete: HTTP 202")
    poll(lambda: requests.get(url, timeout=10).status_code == 404, what="the entity to be deleted")
    expect(page.locator("#no-entity")).to_contain_text("This entity has no state")
    expect(page.get_by_role("button", name="Delete", exact=True)).to_be_disabled()
    page = tab.open("#/entities")
    expect(page.locator(f'#entities tr[data-entity="counter/{key}"]')).to_have_count(0)

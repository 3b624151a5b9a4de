// One instance: status, input, output, custom status, failure details, its history as a table and a timeline,
// links to its parent and sub-orchestrations, and the management actions, each through the management API.
import {
  FINISHED, RUNNING, announce, answerBlock, apiUrl, call, confirmAction, encode, field, formatDuration, formatInstanceDuration, h,
  instanceLink, jsonBlock, parseTime, readUserJson, poller, statusBadge, timeElement,
} from "./common.js";
import { renderTimeline } from "./timeline.js";

const REFRESH_MS = 2000;
const SUB_DONE = new Set(["SubOrchestrationInstanceCompleted", "SubOrchestrationInstanceFailed"]);

function sameJson(text, value) {
  if (text === undefined) return true; // inputs not shown: cannot tell them apart
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* a plain string */ }
  return JSON.stringify(parsed) === JSON.stringify(value);
}

const iso = (ms) => new Date(ms).toISOString();

/** The management API shows a finished sub-orchestration without its id: find it among the instances created
 * when it was scheduled, by name and input. Fills e.LinkedInstanceId; returns whether any was found. */
async function linkChildren(events) {
  const used = new Set();
  let found = false;
  for (const e of events.filter((x) => SUB_DONE.has(x.EventType) && !x.InstanceId)) {
    const at = parseTime(e.ScheduledTime);
    if (!Number.isFinite(at)) continue;
    const answer = await call("GET", "instances/", { params: {
      createdTimeFrom: iso(at - 1), createdTimeTo: iso(at + 2000), showInput: "true", top: "200" } });
    const match = (answer.json || []).find((s) => s.name === e.FunctionName && !used.has(s.instanceId) &&
                                                  sameJson(e.Input, s.input));
    if (match) {
      used.add(match.instanceId);
      e.LinkedInstanceId = match.instanceId;
      found = true;
    }
  }
  return found;
}

/** The parent of a sub-orchestration: an instance created before it whose history scheduled it. */
async function findParent(status, events) {
  const started = events.find((e) => e.EventType === "ExecutionStarted");
  const at = parseTime(started?.Timestamp);
  if (!Number.isFinite(at)) return null;
  const candidates = [];
  let token = null;
  for (let page = 0; page < 10; page++) {
    const answer = await call("GET", "instances/", {
      params: { createdTimeFrom: iso(at - 86400000), createdTimeTo: iso(at + 1), showInput: "false", top: "100" },
      headers: token ? { "x-ms-continuation-token": token } : {} });
    if (!answer.ok) return null;
    candidates.push(...answer.json.filter((s) => s.instanceId !== status.instanceId &&
                                                 parseTime(s.lastUpdatedTime) >= at - 1000));
    token = answer.headers.get("x-ms-continuation-token");
    if (!token) break;
  }
  for (const candidate of candidates.reverse().slice(0, 30)) {
    const answer = await call("GET", `instances/${encode(candidate.instanceId)}`,
                              { params: { showHistory: "true", showInput: "true" } });
    const history = answer.json?.historyEvents || [];
    const scheduled = history.some((e) => (e.EventType === "SubOrchestrationInstanceCreated" &&
                                           e.InstanceId === status.instanceId) ||
      (SUB_DONE.has(e.EventType) && !e.InstanceId && e.FunctionName === status.name &&
       Math.abs(parseTime(e.ScheduledTime) - at) < 1000 && sameJson(e.Input, status.input)));
    if (scheduled) return candidate.instanceId;
  }
  return null;
}

function eventName(e) {
  return e.FunctionName || e.Name || "";
}

// A TaskFailed's Details is the extension's one-line JSON of a .NET exception (docs/protocol.md §5.1): show the
// Python message and stack it carries, or the exception's type and message; anything else as it is.
function readableDetails(details) {
  try {
    const exception = JSON.parse(details);
    const rpc = exception && exception.InnerException;
    if (rpc && typeof rpc.RemoteStackTrace === "string") return `${rpc.RemoteMessage}\n${rpc.RemoteStackTrace}`;
    if (exception && typeof exception.Message === "string") return `${exception.ClassName}: ${exception.Message.trim()}`;
  } catch (_) { /* not JSON */ }
  return details;
}

function eventDetails(e) {
  const parts = [];
  const add = (label, value, asJson = true) => {
    if (value === undefined || value === null || value === "") return;
    parts.push(h("div", {}, h("span", { class: "muted" }, `${label}: `),
      asJson ? jsonBlock(value, label, 300) : h("span", {}, String(value))));
  };
  if (e.InstanceId) parts.push(h("div", {}, h("span", { class: "muted" }, "Instance: "), instanceLink(e.InstanceId)));
  if (e.LinkedInstanceId) parts.push(h("div", {}, h("span", { class: "muted" }, "Instance: "),
                                       instanceLink(e.LinkedInstanceId)));
  add("Reason", e.Reason, false);
  if (e.Details) parts.push(h("details", {}, h("summary", {}, "Details"), h("pre", { tabindex: "0" }, readableDetails(e.Details))));
  add("Status", e.OrchestrationStatus, false);
  add("Fires at", e.FireAt && timeElement(e.FireAt, true).textContent, false);
  add("Input", e.Input);
  add("Result", e.Result);
  return parts;
}

function historyTable(events) {
  const start = events.length ? parseTime(events[0].Timestamp) : 0;
  return h("div", { class: "table-wrap" }, h("table", { class: "list history", id: "history" },
    h("caption", {}, `History: ${events.length} events`),
    h("thead", {}, h("tr", {}, ["#", "Time", "Since start", "Event", "Name", "Details"].map(
      (c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, events.map((e, i) => h("tr", { class: /Failed/.test(e.EventType) || e.OrchestrationStatus === "Failed" ? "failed" : "" },
      h("td", { "data-label": "#", class: "num" }, String(i + 1)),
      h("td", { "data-label": "Time" }, timeElement(e.Timestamp, true)),
      h("td", { "data-label": "Since start", class: "num" }, `+${formatDuration(parseTime(e.Timestamp) - start)}`),
      h("td", { "data-label": "Event" }, e.EventType),
      h("td", { "data-label": "Name" }, eventName(e)),
      h("td", { "data-label": "Details", class: "details" }, h("div", {}, eventDetails(e))))))));
}

function failureDetails(status, events) {
  const failed = events.filter((e) => /Failed$/.test(e.EventType));
  if (status.runtimeStatus !== "Failed" && !failed.length) return null;
  return h("section", { class: "card failure", "aria-labelledby": "failure-title" },
    h("h2", { id: "failure-title" }, "Failure details"),
    status.runtimeStatus === "Failed" ? h("pre", { class: "failure-message", tabindex: "0" }, String(status.output ?? "")) : null,
    failed.map((e) => h("div", { class: "failed-event" },
      h("h3", {}, `${e.EventType}: ${eventName(e)}`),
      h("p", {}, e.Reason || ""),
      e.Details ? h("details", {}, h("summary", {}, "Details"), h("pre", { tabindex: "0" }, readableDetails(e.Details))) : null)));
}

function actionsPanel(id, refresh) {
  const reason = h("input", { name: "reason", autocomplete: "off" });
  const newId = h("input", { type: "checkbox", name: "newId", checked: true });
  const eventNameInput = h("input", { name: "eventName", autocomplete: "off", required: true });
  const eventData = h("textarea", { name: "eventData", rows: "1", class: "mono", spellcheck: "false" });
  const result = h("div", { class: "result", id: "action-result" });
  const base = `instances/${encode(id)}`;
  const buttons = {};

  async function act(label, question, method, path, options = {}) {
    if (!await confirmAction(question, label)) return;
    const answer = await call(method, path, options);
    result.replaceChildren(answerBlock(label, answer), options.after?.(answer) || "");
    announce(`${label}: HTTP ${answer.status}`);
    if (!(options.gone && answer.ok)) await refresh();
    else update(null);
  }
  const op = (name, label, verb) => h("button", {
    type: "button", "data-action": name,
    onclick: () => act(label, `${verb} instance ${id}?`, "POST", `${base}/${name}`,
                       { params: { reason: reason.value.trim() } }) }, label);
  buttons.terminate = op("terminate", "Terminate", "Terminate");
  buttons.terminate.classList.add("danger");
  buttons.suspend = op("suspend", "Suspend", "Suspend");
  buttons.resume = op("resume", "Resume", "Resume");
  buttons.rewind = op("rewind", "Rewind", "Rewind the failed");
  buttons.restart = h("button", { type: "button", "data-action": "restart", onclick: () => act(
    "Restart", `Restart instance ${id}${newId.checked ? " under a new ID" : " with the same ID"}?`, "POST",
    `${base}/restart`, { params: { restartWithNewInstanceId: String(newId.checked) },
                         after: (a) => (a.json?.id ? h("p", {}, "Restarted as ", instanceLink(a.json.id)) : null) }) },
  "Restart");
  buttons.purge = h("button", { type: "button", class: "danger", "data-action": "purge", onclick: () => act(
    "Purge", `Purge instance ${id} and its history? This cannot be undone.`, "DELETE", base,
    { gone: true, after: (a) => (a.ok ? h("p", {}, "Purged. ", h("a", { href: "#/instances" }, "Back to the instances"))
                                      : null) }) },
  "Purge");
  const raiseForm = h("form", { class: "raise", onsubmit: async (event) => {
    event.preventDefault();
    const data = readUserJson(eventData, result, "null");
    if (!data.ok) return;
    await act("Raise event", `Raise event "${eventNameInput.value}" on ${id}?`, "POST",
              `${base}/raiseEvent/${encode(eventNameInput.value.trim())}`,
              { body: data.text, headers: { "Content-Type": "application/json" } });
  } },
  h("fieldset", {}, h("legend", {}, "Raise an event"),
    h("div", { class: "row2" }, field("Event name", eventNameInput),
      field("Event data (JSON)", eventData, "empty sends null")),
    h("div", { class: "buttons" }, h("button", { type: "submit", "data-action": "raise" }, "Raise event"))));
  const panel = h("section", { class: "card actions", "aria-labelledby": "actions-title" },
    h("h2", { id: "actions-title" }, "Actions"),
    h("fieldset", {}, h("legend", {}, "Change the instance"),
      field("Reason (terminate, suspend, resume, rewind)", reason),
      h("div", { class: "buttons" }, buttons.suspend, buttons.resume, buttons.rewind, buttons.terminate),
      h("div", { class: "buttons" }, h("label", { class: "check" }, newId, " Restart under a new ID"),
        buttons.restart, buttons.purge)),
    raiseForm, result);

  function update(status) {
    const s = status?.runtimeStatus;
    const finished = FINISHED.has(s);
    buttons.terminate.disabled = !s || finished;
    buttons.suspend.disabled = !s || finished || s === "Suspended";
    buttons.resume.disabled = s !== "Suspended";
    buttons.rewind.disabled = s !== "Failed";
    buttons.restart.disabled = !s;
    buttons.purge.disabled = !finished;
    raiseForm.querySelector("button").disabled = !s || finished;
  }
  return { panel, update };
}

export async function renderInstance(main, id) {
  const header = h("div", { class: "title" });
  const summary = h("div");
  const body = h("div");
  const parentSlot = h("dd", {}, h("span", { class: "muted" }, "looking…"));
  let status = null;
  let events = [];
  let parentSearched = false;
  let childrenLinked = false;
  const { panel, update } = actionsPanel(id, () => load());

  main.append(h("p", {}, h("a", { href: "#/instances" }, "← Instances")), header,
              h("div", { class: "overview" }, summary, panel), body);

  async function load() {
    const answer = await call("GET", `instances/${encode(id)}`,
                              { params: { showHistory: "true", showHistoryOutput: "true", showInput: "true" } });
    if (answer.status === 404) {
      status = null;
      header.replaceChildren(h("h1", {}, "Instance ", h("span", { class: "mono" }, id)));
      summary.replaceChildren(h("p", { role: "alert", class: "answer error" },
        "There is no instance with this ID (it may have been purged). ", h("a", { href: "#/instances" }, "All instances")));
      body.replaceChildren();
      update(null);
      return;
    }
    if (!answer.json) {
      summary.replaceChildren(answerBlock("Reading the instance", answer));
      return;
    }
    status = answer.json;
    const linked = new Map(events.filter((e) => e.LinkedInstanceId).map((e) => [`${e.FunctionName}|${e.ScheduledTime}`,
                                                                                 e.LinkedInstanceId]));
    events = status.historyEvents || [];
    for (const e of events) {
      const known = linked.get(`${e.FunctionName}|${e.ScheduledTime}`);
      if (known && SUB_DONE.has(e.EventType)) e.LinkedInstanceId = known;
    }
    draw();
    update(status);
    if (!parentSearched) {
      parentSearched = true;
      findParent(status, events).then((parent) => {
        parentSlot.replaceChildren(parent ? instanceLink(parent) : h("span", { class: "muted" }, "none"));
      });
    }
    if (!childrenLinked && events.some((e) => SUB_DONE.has(e.EventType))) {
      childrenLinked = true;
      if (await linkChildren(events)) draw();
    }
  }

  function draw() {
    header.replaceChildren(h("h1", {}, h("span", { class: "visually-hidden" }, "Instance "),
      h("span", { class: "mono id" }, status.instanceId)), statusBadge(status.runtimeStatus));
    const children = events.filter((e) => e.InstanceId || e.LinkedInstanceId)
      .filter((e) => /^SubOrchestration/.test(e.EventType));
    summary.replaceChildren(h("dl", { class: "summary card" },
      h("dt", {}, "Name"), h("dd", {}, h("a", { href: `#/instances?name=${encode(status.name)}` }, status.name)),
      h("dt", {}, "Status"), h("dd", {}, statusBadge(status.runtimeStatus)),
      h("dt", {}, "Created"), h("dd", {}, timeElement(status.createdTime)),
      h("dt", {}, "Last updated"), h("dd", {}, timeElement(status.lastUpdatedTime)),
      h("dt", {}, "Duration"), h("dd", {}, formatInstanceDuration(status, events)),
      h("dt", {}, "Parent"), parentSlot,
      h("dt", {}, "Sub-orchestrations"), h("dd", {}, children.length
        ? h("ul", { class: "inline" }, children.map((e) => h("li", {}, instanceLink(e.InstanceId || e.LinkedInstanceId))))
        : h("span", { class: "muted" }, "none"))));
    const finished = FINISHED.has(status.runtimeStatus);
    body.replaceChildren(
      failureDetails(status, events) || "",
      h("div", { class: "grid3" },
        h("section", { class: "card", "aria-labelledby": "input-title" }, h("h2", { id: "input-title" }, "Input"),
          jsonBlock(status.input, "Input")),
        h("section", { class: "card", "aria-labelledby": "output-title" }, h("h2", { id: "output-title" }, "Output"),
          jsonBlock(status.output, "Output")),
        h("section", { class: "card", "aria-labelledby": "custom-title" },
          h("h2", { id: "custom-title" }, "Custom status"), jsonBlock(status.customStatus, "Custom status"))),
      h("section", { class: "card", "aria-labelledby": "timeline-title" },
        h("h2", { id: "timeline-title" }, "Timeline"), renderTimeline(events, { now: Date.now(), finished })),
      h("section", { class: "card", "aria-labelledby": "history-title" },
        h("h2", { id: "history-title" }, "History"), historyTable(events),
        h("p", { class: "muted" }, h("a", { href: apiUrl(`instances/${encode(id)}`, { showHistory: "true",
                                                                             showHistoryOutput: "true" }).href,
                                            target: "_blank", rel: "noopener" }, "The status as JSON"))));
  }

  await load();
  return poller(load, REFRESH_MS, () => status && (RUNNING.has(status.runtimeStatus) ||
                                                    status.runtimeStatus === "Suspended"));
}

// One instance: status, input, output, custom status, failure details, its history as a table and a timeline,
// links to its parent and sub-orchestrations, and the management actions, each through the management API.
import {
  FINISHED, RUNNING, announce, answerBlock, apiUrl, call, confirmAction, encode, field, formatDuration,
  formatInstanceDuration, h, instanceLink, jsonBlock, parseTime, plural, readUserJson, poller, statusBadge, timeElement,
  zoneLabel,
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

// Failure texts carry the extension's one-line JSON of a .NET exception (docs/protocol.md §4, §5.1): the Python
// message and stack are inside it. A failure is shown readable first (the message and the user's own frames;
// devhost's, the SDK's, the standard library's and installed packages' frames left out), the raw text behind a toggle.
const HOST_FRAME = new RegExp([
  String.raw`[\\/](site-packages|dist-packages)[\\/]`, String.raw`[\\/]lib[\\/]python\d[^\\/]*[\\/]`, "^<frozen ",
  // devhost's frames: named from the package ("devhost/workers/process.py"), or by a path in older histories
  String.raw`(^|[\\/])devhost[\\/](workers|protocol|runtime|app|web)[\\/]`, String.raw`(^|[\\/])devhost[\\/]\w+\.py$`,
].join("|"));

/** The first JSON object in `text` from `at` (strings respected), parsed; null when there is none. */
function jsonAt(text, at) {
  let depth = 0;
  let inString = false;
  for (let i = at; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) {
      try { return JSON.parse(text.slice(at, i + 1)); } catch { return null; }
    }
  }
  return null;
}

/** The Python message and stack a serialized exception carries, looking into its inner exceptions. */
function pythonFailure(exception) {
  for (let e = exception; e && typeof e === "object"; e = e.InnerException) {
    if (typeof e.RemoteStackTrace === "string") return { message: e.RemoteMessage || "", stack: e.RemoteStackTrace };
  }
  return exception && typeof exception.Message === "string"
    ? { message: `${exception.ClassName || "Exception"}: ${exception.Message.trim()}`, stack: "" } : null;
}

/** A Python stack's frames ("  File "...", line N, in f" and the code line under it), split into the user's
 * frames and the count of the others. */
function userFrames(stack) {
  const frames = [];
  for (const line of stack.split("\n")) {
    if (/^\s*File "/.test(line) || !frames.length) frames.push([line]);
    else frames[frames.length - 1].push(line);
  }
  const path = (frame) => (/File "([^"]*)"/.exec(frame[0]) || [])[1] || "";
  const own = frames.filter((f) => /File "/.test(f[0]) && !HOST_FRAME.test(path(f)));
  const all = frames.filter((f) => /File "/.test(f[0])).length;
  return { text: own.map((f) => f.join("\n")).join("\n"), hidden: all - own.length };
}

/** A failure text (an output, a Reason with its Details) as {message, frames, hidden}: the message without the
 * JSON, and the user's frames. */
export function readableFailure(text, details) {
  const raw = String(text ?? "");
  const at = raw.indexOf('{"$type"');
  const exception = details ? (() => { try { return JSON.parse(details); } catch { return null; } })()
    : at >= 0 ? jsonAt(raw, at) : null;
  const message = (at >= 0 ? raw.slice(0, at) : raw).replace(/\s*(\\n|\n)\s*$/, "").trim();
  const python = pythonFailure(exception);
  const { text: frames, hidden } = userFrames(python?.stack || "");
  return { message: message || python?.message || raw, python: python?.message || "", frames, hidden };
}

/** The readable failure, then the raw text behind a toggle. */
function failureBlock(text, details) {
  const failure = readableFailure(text, details);
  const raw = details ? `${text ?? ""}\n${details}` : String(text ?? "");
  const note = failure.hidden
    ? ` (${plural(failure.hidden, "frame")} of devhost, the SDK and the standard library left out)` : "";
  return h("div", { class: "failure-block" },
    h("p", { class: "failure-message" }, failure.message),
    failure.python && !failure.message.includes(failure.python)
      ? h("p", { class: "failure-python" }, failure.python) : null,
    failure.frames ? h("div", {}, h("small", { class: "muted" }, `Your code's frames${note}`),
                        h("pre", { class: "stack", tabindex: "0" }, failure.frames)) : null,
    h("details", { class: "raw-failure" }, h("summary", {}, "Raw failure, as the management API returns it"),
      h("pre", { tabindex: "0" }, raw)));
}

/** A short JSON value (or JSON text of one) on one line, so a long history stays compact; null when it is long. */
function compactJson(value) {
  let shown = value;
  for (let depth = 0; depth < 2 && typeof shown === "string"; depth++) {
    try { shown = JSON.parse(shown); } catch { break; }
  }
  const text = typeof shown === "string" ? shown : JSON.stringify(shown);
  return text !== undefined && text.length <= 60 && !text.includes("\n") ? text : null;
}

function eventDetails(e) {
  const parts = [];
  const add = (label, value, asJson = true) => {
    if (value === undefined || value === null || value === "") return;
    const short = asJson && compactJson(value);
    parts.push(h("div", {}, h("span", { class: "muted" }, `${label}: `),
      short !== null && short !== false ? h("code", { class: "inline-json" }, short)
        : asJson ? jsonBlock(value, label, 120) : h("span", {}, String(value))));
  };
  if (e.InstanceId) parts.push(h("div", {}, h("span", { class: "muted" }, "Instance: "), instanceLink(e.InstanceId)));
  if (e.LinkedInstanceId) parts.push(h("div", {}, h("span", { class: "muted" }, "Instance: "),
                                       instanceLink(e.LinkedInstanceId)));
  if (e.Details) parts.push(failureBlock(e.Reason, e.Details));
  else add("Reason", e.Reason, false);
  add("Status", e.OrchestrationStatus, false);
  add("Fires at", e.FireAt && timeElement(e.FireAt, true).textContent, false);
  add("Input", e.Input);
  add("Result", e.Result);
  return parts;
}

const HISTORY_PAGE = 20; // events per page of the history table: a long history is paged, not one long page

/** The history table, one page of it (`page` from 0) with a pager when it is longer. */
function historyTable(events, page, turn) {
  const start = events.length ? parseTime(events[0].Timestamp) : 0;
  const pages = Math.max(1, Math.ceil(events.length / HISTORY_PAGE));
  const shown = Math.min(page, pages - 1);
  const first = shown * HISTORY_PAGE;
  const slice = events.slice(first, first + HISTORY_PAGE);
  const range = events.length ? `events ${first + 1}–${first + slice.length} of ${events.length}` : "no events";
  const pager = pages > 1 ? h("nav", { class: "pager", "aria-label": "History pages" },
    h("button", { type: "button", class: "secondary", disabled: shown === 0, onclick: () => turn(shown - 1) },
      "← Earlier events"),
    h("span", { class: "muted", id: "history-range" }, `${range}, page ${shown + 1} of ${pages}`),
    h("button", { type: "button", class: "secondary", disabled: shown >= pages - 1, onclick: () => turn(shown + 1) },
      "Later events →")) : null;
  return h("div", {}, h("div", { class: "table-wrap" }, h("table", { class: "list history", id: "history" },
    h("caption", {}, `History: ${plural(events.length, "event")}${pages > 1 ? `, ${range}` : ""}`),
    h("thead", {}, h("tr", {}, ["#", `Time (${zoneLabel(start)})`, "Since start", "Event", "Name", "Details"].map(
      (c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, slice.map((e, i) => h("tr", { class: /Failed/.test(e.EventType) || e.OrchestrationStatus === "Failed" ? "failed" : "" },
      h("td", { "data-label": "#", class: "num" }, String(first + i + 1)),
      h("td", { "data-label": "Time" }, timeElement(e.Timestamp, true)),
      h("td", { "data-label": "Since start", class: "num" }, `+${formatDuration(parseTime(e.Timestamp) - start)}`),
      h("td", { "data-label": "Event" }, e.EventType),
      h("td", { "data-label": "Name" }, eventName(e)),
      h("td", { "data-label": "Details", class: "details" }, h("div", {}, eventDetails(e)))))))), pager);
}

function failureDetails(status, events) {
  const failed = events.filter((e) => /Failed$/.test(e.EventType));
  if (status.runtimeStatus !== "Failed" && !failed.length) return null;
  return h("section", { class: "card failure", "aria-labelledby": "failure-title" },
    h("h2", { id: "failure-title" }, "Failure details"),
    status.runtimeStatus === "Failed" ? h("div", { class: "instance-failure" }, failureBlock(status.output)) : null,
    failed.map((e) => h("div", { class: "failed-event" },
      h("h3", {}, `${e.EventType}: ${eventName(e)}`), failureBlock(e.Reason, e.Details))));
}

function actionsPanel(id, refresh, gone) {
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
    // After a purge the page says the instance is gone, with nothing of it left; otherwise it reads it again.
    if (options.gone && answer.ok) gone();
    else await refresh();
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
  // The status with its whole history, inputs and outputs, saved as the server answers it: the file
  // `python -m devhost replay` checks a change of the code against (docs/versioning.md).
  const download = h("a", { id: "download-history", class: "button", "data-action": "download",
                            download: `${id.replace(/[^A-Za-z0-9._-]/g, "_")}.json`,
                            href: apiUrl(base, { showHistory: "true", showHistoryOutput: "true",
                                                 showInput: "true" }).href }, "Download history");
  const panel = h("section", { class: "card actions", "aria-labelledby": "actions-title" },
    h("h2", { id: "actions-title" }, "Actions"),
    h("div", { class: "buttons" }, download,
      h("span", { class: "muted" }, "the history as JSON, for python -m devhost replay")),
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
  let historyPage = 0;
  let childrenLinked = false;
  const { panel, update } = actionsPanel(id, () => load(), () => showGone());

  main.append(h("p", {}, h("a", { href: "#/instances" }, "← Instances")), header,
              h("div", { class: "overview" }, summary, panel), body);

  function showGone() {
    status = null;
    events = [];
    header.replaceChildren(h("h1", {}, "Instance ", h("span", { class: "mono" }, id)));
    summary.replaceChildren(h("p", { role: "alert", class: "answer error" },
      "There is no instance with this ID (it may have been purged). ", h("a", { href: "#/instances" }, "All instances")));
    body.replaceChildren();
    update(null);
  }

  async function load() {
    const answer = await call("GET", `instances/${encode(id)}`,
                              { params: { showHistory: "true", showHistoryOutput: "true", showInput: "true" } });
    if (answer.status === 404) {
      showGone();
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
    if (!status) return; // gone (purged) while its children were being looked for
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
        h("h2", { id: "history-title" }, "History"),
        historyTable(events, historyPage, (page) => { historyPage = page; draw(); }),
        h("p", { class: "muted" }, h("a", { href: apiUrl(`instances/${encode(id)}`, { showHistory: "true",
                                                                             showHistoryOutput: "true" }).href,
                                            target: "_blank", rel: "noopener" }, "The status as JSON"))));
  }

  await load();
  return poller(load, REFRESH_MS, () => status && (RUNNING.has(status.runtimeStatus) ||
                                                    status.runtimeStatus === "Suspended"));
}

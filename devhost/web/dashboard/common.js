// What every view shares: calls to the public management API (as the Durable extension serves it), DOM building,
// and the formatting of statuses, times, durations and JSON. No framework: plain modules and DOM calls.

// The API's path and the status sets come from the host (GET /devhost/constants.js, made from devhost/model.py),
// never copied here.
import { API, FINISHED, RUNNING, STATUSES } from "./constants.js";

export { API, FINISHED, RUNNING, STATUSES };

// When the host asks for a key, the dashboard is opened with ?code=...; every call passes it on.
const code = new URLSearchParams(location.search).get("code");

export function apiUrl(path, params = {}) {
  const url = new URL(path.startsWith("/") ? path : `${API}/${path}`, location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  if (code) url.searchParams.set("code", code);
  return url;
}

/** One HTTP call; never throws for an HTTP status: the answer is data ({status, ok, headers, text, json}). */
export async function call(method, path, { params, body, headers } = {}) {
  let response;
  try {
    // fetch() is in "cors" mode: its POSTs carry the page's Origin even under Referrer-Policy no-referrer.
    response = await fetch(apiUrl(path, params), { method, body, headers, cache: "no-store" });
  } catch (error) {
    return { status: 0, ok: false, headers: new Headers(), text: String(error), json: null };
  }
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: response.status, ok: response.ok, headers: response.headers, text, json };
}

export const encode = encodeURIComponent;

// -- DOM ---------------------------------------------------------------------------------------------------------
/** h("a", {href: "#"}, "text", child...): an element; attributes starting with "on" are listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "style") setStyle(el, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** "left:2%;width:5%" set through the CSSOM: a strict Content-Security-Policy refuses style attributes. */
function setStyle(el, text) {
  for (const declaration of text.split(";")) {
    const at = declaration.indexOf(":");
    if (at > 0) el.style.setProperty(declaration.slice(0, at).trim(), declaration.slice(at + 1).trim());
  }
}

/** "1 bar", "2 bars": a count with its noun, singular or plural. */
export function plural(n, noun, nouns = `${noun}s`) {
  return `${n} ${n === 1 ? noun : nouns}`;
}

/** A labelled form field: <div class=field><label for=id>label</label><input id=id ...></div>. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintEl = hint ? h("small", { id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl);
}

export function announce(text) {
  const region = document.getElementById("announce");
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 20);
}

export function statusBadge(status) {
  return h("span", { class: `badge status-${(status || "unknown").toLowerCase()}` }, status || "?");
}

export function instanceLink(id, text) {
  return h("a", { href: `#/instances/${encode(id)}`, class: "mono" }, text ?? id);
}

/** Pretty JSON in a <pre>; strings that hold JSON are shown decoded, with a note. */
export function jsonBlock(value, label, collapseAt = Infinity) {
  let shown = value;
  let note = null;
  // Inputs started through the SDK client are JSON text of JSON text: decode up to twice.
  for (let depth = 0; depth < 2 && typeof shown === "string"; depth++) {
    try {
      shown = JSON.parse(shown);
      note = "JSON text, shown decoded";
    } catch { break; }
  }
  // A string (a message, a traceback) is shown as text; anything else as indented JSON.
  const text = typeof shown === "string" ? shown : shown === undefined ? "" : JSON.stringify(shown, null, 2);
  const pre = h("pre", { tabindex: "0", "aria-label": label || "JSON" }, text ?? "null");
  const long = text && text.length > collapseAt;
  return h("div", { class: "json" }, note ? h("small", { class: "muted" }, note) : null,
           long ? h("details", {}, h("summary", {}, `${text.slice(0, 80).replace(/\s+/g, " ")}…`), pre) : pre);
}

/** The API's answer to an action: status line and body. */
export function answerBlock(what, answer) {
  const ok = answer.ok;
  const body = answer.json !== null ? JSON.stringify(answer.json, null, 2) : answer.text;
  return h("div", { class: `answer ${ok ? "ok" : "error"}`, role: "status" },
           h("strong", {}, `${what}: HTTP ${answer.status} ${reason(answer.status)}`),
           body ? h("pre", { tabindex: "0" }, body) : h("span", { class: "muted" }, " (empty body)"));
}

function reason(status) {
  return { 0: "(no answer)", 200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 409: "Conflict",
           410: "Gone", 412: "Precondition Failed", 500: "Internal Server Error" }[status] || "";
}

/** The confirmation dialog; resolves true when the user confirms. */
export function confirmAction(text, okLabel = "OK") {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    document.getElementById("confirm-ok").focus();
  });
}

// -- time ----------------------------------------------------------------------------------------------------------
/** Milliseconds since the epoch, with the fraction the timestamp has (7 digits: 100 ns). NaN when absent. */
export function parseTime(text) {
  if (!text) return NaN;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$/.exec(text);
  if (!m) return Date.parse(text);
  const whole = Date.parse(`${m[1]}${m[3] || "Z"}`);
  return whole + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0);
}

const pad = (n, w = 2) => String(n).padStart(w, "0");

// Times are shown in UTC or in the browser's zone, as the header's toggle says; the choice is remembered.
const ZONE_KEY = "devhost.timeZone";

export function timeZone() {
  try { return localStorage.getItem(ZONE_KEY) === "utc" ? "utc" : "local"; } catch { return "local"; }
}

export function setTimeZone(zone) {
  try { localStorage.setItem(ZONE_KEY, zone === "local" ? "local" : "utc"); } catch { /* private mode */ }
}

/** The label of the zone times are shown in at `ms`: "UTC", or the browser's offset ("UTC+02:00"). */
export function zoneLabel(ms = Date.now()) {
  if (timeZone() === "utc") return "UTC";
  const offset = -new Date(Number.isFinite(ms) ? ms : Date.now()).getTimezoneOffset();
  const sign = offset < 0 ? "−" : "+";
  const hours = pad(Math.floor(Math.abs(offset) / 60));
  return offset === 0 ? "UTC+00:00" : `UTC${sign}${hours}:${pad(Math.abs(offset) % 60)}`;
}

/** The date and time fields of a moment in the chosen zone. */
function parts(ms) {
  const d = new Date(ms);
  return timeZone() === "utc"
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
}

/** A moment in the chosen zone, to the millisecond when it has a fraction, with the zone's label unless
 * withZone is false ("2024-05-01 12:00:01.250 UTC"). */
export function formatTime(ms, withMillis = false, withZone = true) {
  if (!Number.isFinite(ms)) return "—";
  const [y, mo, day, hh, mi, ss] = parts(ms);
  const base = `${y}-${pad(mo)}-${pad(day)} ${pad(hh)}:${pad(mi)}:${pad(ss)}`;
  const millis = withMillis ? `.${pad(new Date(ms).getUTCMilliseconds(), 3)}` : "";
  return `${base}${millis}${withZone ? ` ${zoneLabel(ms)}` : ""}`;
}

export function timeElement(text, withMillis = false) {
  const ms = parseTime(text);
  return h("time", { datetime: text, title: `${text} (as stored, UTC)` }, formatTime(ms, withMillis));
}

/** A duration for people: 850 ms, 4.25 s, 3 min 12 s, 2 h 5 min, 3 d 4 h. */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return "—";
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${m % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** How long an instance has run: to its last update when finished, to now while it runs. The status has whole
 * seconds; with the history (7-digit timestamps) the start and end are exact. */
export function instanceDuration(status, events = []) {
  const started = events.find((e) => e.EventType === "ExecutionStarted");
  const ended = events.find((e) => e.EventType === "ExecutionCompleted" || e.EventType === "ExecutionTerminated");
  const finished = FINISHED.has(status.runtimeStatus);
  if (started && (ended || !finished)) {
    return (ended ? parseTime(ended.Timestamp) : Date.now()) - parseTime(started.Timestamp);
  }
  const ms = (finished ? parseTime(status.lastUpdatedTime) : Date.now()) - parseTime(status.createdTime);
  return { seconds: true, ms };
}

export function formatInstanceDuration(status, events = []) {
  const d = instanceDuration(status, events);
  if (typeof d === "number") return formatDuration(d);
  if (d.ms < 1000) return "< 1 s";
  return d.ms < 60000 ? `${Math.round(d.ms / 1000)} s` : formatDuration(Math.round(d.ms / 1000) * 1000);
}

/** A datetime-local input's value, read in the chosen zone, as ISO UTC for the API ("" stays ""). */
export function localInputToIso(value) {
  if (!value) return "";
  const ms = new Date(timeZone() === "utc" ? `${value}Z` : value).getTime();
  return Number.isFinite(ms) ? new Date(ms).toISOString() : "";
}

/** An ISO time as a datetime-local input's value in the chosen zone ("" when absent or not a time). */
export function isoToLocalInput(iso) {
  const ms = iso ? new Date(iso).getTime() : NaN;
  if (!Number.isFinite(ms)) return "";
  const shift = timeZone() === "utc" ? 0 : new Date(ms).getTimezoneOffset() * 60000;
  return new Date(ms - shift).toISOString().slice(0, 19);
}

/** The body the Python SDK client sends for an orchestration or operation input: the JSON text as a JSON string,
 * which get_input() decodes (a bare number or list sent as plain JSON would not decode). "" stays "" (no input). */
export function sdkEncoded(jsonText) {
  return jsonText ? JSON.stringify(jsonText) : "";
}

/** Parse JSON typed by the user; returns {ok, value, text} where text is the JSON to send ("" = none). */
export function parseUserJson(text) {
  const trimmed = (text || "").trim();
  if (!trimmed) return { ok: true, value: undefined, text: "" };
  try {
    const value = JSON.parse(trimmed);
    return { ok: true, value, text: JSON.stringify(value) };
  } catch (error) {
    return { ok: false, error: `Not valid JSON: ${error.message}` };
  }
}

/** The JSON typed in `field` (parseUserJson's answer; `fallback` when the field is empty). When it is not JSON,
 * says why in `result` and puts the focus back on the field. */
export function readUserJson(field, result, fallback = "") {
  const input = parseUserJson(field.value || fallback);
  if (!input.ok) {
    result.replaceChildren(h("p", { class: "answer error", role: "alert" }, input.error));
    field.focus();
  }
  return input;
}

/** Repeats `task` every `ms` while `wanted()` says so and the view is still shown; returns a stop function. */
export function poller(task, ms, wanted) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    if (wanted()) await task();
    if (!stopped) timer = setTimeout(tick, ms);
  };
  timer = setTimeout(tick, ms);
  return () => { stopped = true; clearTimeout(timer); };
}

// The timeline of an instance, from its historyEvents as the management API shows them: activities,
// sub-orchestrations, timers, waits for external events and suspensions as bars from scheduled to done; failures
// marked; retries numbered. timelineBars() is a pure function of the history; renderTimeline() draws it.
import { formatDuration, formatTime, h, instanceLink, parseTime, plural } from "./common.js";

const DONE = { TaskCompleted: "activity", TaskFailed: "activity", SubOrchestrationInstanceCompleted: "suborchestration",
               SubOrchestrationInstanceFailed: "suborchestration" };
const FAILED = new Set(["TaskFailed", "SubOrchestrationInstanceFailed"]);

/** Bars {kind, label, start, end, open, failed, detail, instanceId, attempt} in start order, and the span. */
export function timelineBars(events, now = Date.now(), finished = true) {
  const bars = [];
  const first = events.length ? parseTime(events[0].Timestamp) : now;
  const endEvent = events.find((e) => e.EventType === "ExecutionCompleted" || e.EventType === "ExecutionTerminated");
  const last = endEvent ? parseTime(endEvent.Timestamp) : (finished ? Math.max(first, ...events.map((e) => parseTime(e.Timestamp))) : now);
  const timers = [];
  let suspended = null;
  let previous = first;
  for (const e of events) {
    const at = parseTime(e.Timestamp);
    const kind = DONE[e.EventType];
    if (kind) {
      bars.push({ kind, label: e.FunctionName || e.EventType, start: parseTime(e.ScheduledTime || e.Timestamp), end: at,
                  failed: FAILED.has(e.EventType), detail: e.Reason || "", open: false,
                  instanceId: e.InstanceId || e.LinkedInstanceId || null });
    } else if (e.EventType === "TaskScheduled" || e.EventType === "SubOrchestrationInstanceCreated") {
      bars.push({ kind: e.EventType === "TaskScheduled" ? "activity" : "suborchestration", label: e.Name, start: at,
                  end: last, open: true, failed: false, detail: "still running", instanceId: e.InstanceId || null });
    } else if (e.EventType === "TimerCreated") {
      // a timer says how long it is and when it fires, date and zone included (a 24-hour timer is not "until 12:00")
      const fires = parseTime(e.FireAt);
      // (the zone is in its description and the history's heading: the label stays short enough to read)
      const bar = { kind: "timer", label: `${formatDuration(fires - at)} until ${formatTime(fires, false, false)}`,
                    start: at,
                    end: Math.min(parseTime(e.FireAt), last), open: true, failed: false, fireAt: e.FireAt,
                    detail: `fires at ${formatTime(fires)}` };
      timers.push(bar);
      bars.push(bar);
    } else if (e.EventType === "TimerFired") {
      const bar = timers.find((t) => t.open && t.fireAt === e.FireAt);
      if (bar) Object.assign(bar, { end: at, open: false, detail: `fired at ${formatTime(at, true)}` });
    } else if (e.EventType === "EventRaised") {
      bars.push({ kind: "event", label: `wait for ${e.Name}`, start: previous, end: at, open: false, failed: false,
                  detail: `event ${e.Name} raised` });
    } else if (e.EventType === "ExecutionSuspended") {
      suspended = { kind: "suspended", label: "suspended", start: at, end: last, open: true, failed: false,
                    detail: e.Reason || "" };
      bars.push(suspended);
    } else if (e.EventType === "ExecutionResumed" && suspended) {
      Object.assign(suspended, { end: at, open: false });
      suspended = null;
    }
    if (Number.isFinite(at)) previous = at;
  }
  // An instance that ended left what it still waited for undone: not running (striped), but cancelled.
  for (const bar of bars.filter((b) => b.open && finished)) {
    Object.assign(bar, { open: false, cancelled: true, detail: bar.kind === "timer" ? "cancelled: the instance ended first"
                                                                                   : "never finished: the instance ended first" });
  }
  // Retries: a second call of the same function after a failure of it is attempt 2, and so on.
  const failures = {};
  for (const bar of bars.filter((b) => b.kind === "activity" || b.kind === "suborchestration")) {
    const key = `${bar.kind}:${bar.label}`;
    if (failures[key]) bar.attempt = failures[key] + 1;
    if (bar.failed) failures[key] = (failures[key] || 0) + 1;
  }
  bars.sort((a, b) => a.start - b.start);
  return { bars, start: first, end: Math.max(last, ...bars.map((b) => b.end).filter(Number.isFinite)) };
}

const KIND_NAMES = { activity: "Activity", suborchestration: "Sub-orchestration", timer: "Timer", event: "Wait",
                     suspended: "Suspended" };

export function renderTimeline(events, { now, finished }) {
  const { bars, start, end } = timelineBars(events, now, finished);
  const span = Math.max(end - start, 1);
  const pct = (t) => `${(((t - start) / span) * 100).toFixed(3)}%`;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => h("span", { class: "tick", style: `left:${f * 100}%` },
    `+${formatDuration(span * f)}`));
  const rows = bars.map((bar, i) => {
    const duration = bar.end - bar.start;
    const state = bar.failed ? "failed" : bar.open ? "running" : bar.cancelled ? "cancelled" : "done";
    const text = `${KIND_NAMES[bar.kind]} ${bar.label}${bar.attempt ? ` (retry ${bar.attempt - 1})` : ""}: ` +
                 `${state}, ${formatDuration(duration)}, from +${formatDuration(bar.start - start)}` +
                 `${bar.detail ? `. ${bar.detail}` : ""}`;
    const child = bar.instanceId;
    return h("li", { class: `row kind-${bar.kind}${bar.failed ? " failed" : ""}${bar.open ? " open" : ""}` +
                            `${bar.cancelled ? " cancelled" : ""}`,
                     "data-kind": bar.kind, "data-failed": bar.failed ? "true" : "false" },
      h("span", { class: "label" },
        h("span", { class: "kind" }, KIND_NAMES[bar.kind]), " ",
        child ? instanceLink(child, bar.label) : bar.label,
        bar.attempt ? h("span", { class: "retry" }, ` retry ${bar.attempt - 1}`) : null,
        bar.failed ? h("span", { class: "fail-mark", "aria-hidden": "true" }, " ✕") : null),
      h("span", { class: "track" },
        h("span", { class: "bar", style: `left:${pct(bar.start)};width:max(3px,${((duration / span) * 100).toFixed(3)}%)`,
                    title: text, role: "img", "aria-label": text, "data-index": String(i) }),
        h("span", { class: "dur" }, formatDuration(duration))));
  });
  return h("figure", { class: "timeline" },
    h("figcaption", {}, `Timeline: ${plural(bars.length, "bar")} over ${formatDuration(span)}`,
      h("span", { class: "legend" }, Object.entries(KIND_NAMES).map(([k, n]) => h("span", { class: `key kind-${k}` }, n)),
        h("span", { class: "key failed" }, "Failed"), h("span", { class: "key open" }, "Striped: still running"),
        h("span", { class: "key cancelled" }, "Outlined: cancelled"))),
    h("div", { class: "axis", "aria-hidden": "true" }, ticks),
    bars.length ? h("ol", { class: "rows" }, rows) : h("p", { class: "muted" }, "Nothing scheduled yet."));
}

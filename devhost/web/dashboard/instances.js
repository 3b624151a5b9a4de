// The instances list (filters, paging through the continuation token, refresh while anything runs) and the form
// that starts a new orchestration. Both use GET/POST of the management API only.
import {
  RUNNING, STATUSES, announce, answerBlock, call, confirmAction, encode, field, formatInstanceDuration, h,
  instanceLink, localInputToIso, readUserJson, poller, sdkEncoded, statusBadge, timeElement,
} from "./common.js";

const REFRESH_MS = 2000;
const MAX_PAGES_FOR_NAME = 20;

function isoToLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (!Number.isFinite(d.getTime())) return "";
  const local = new Date(d.getTime() - d.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 19);
}

export async function renderInstances(main, params) {
  const filters = {
    status: params.get("status") || "", name: params.get("name") || "", prefix: params.get("prefix") || "",
    from: params.get("from") || "", to: params.get("to") || "", top: params.get("top") || "25",
  };
  const tokens = [null]; // the continuation token of each page shown so far; the last is the current page's
  let nextToken = null;
  let items = [];

  const statusSelect = h("select", { name: "status" }, h("option", { value: "" }, "Any status"),
                         STATUSES.map((s) => h("option", { value: s, selected: s === filters.status }, s)));
  const nameInput = h("input", { name: "name", type: "search", value: filters.name, autocomplete: "off" });
  const prefixInput = h("input", { name: "prefix", type: "search", value: filters.prefix, autocomplete: "off",
                                   class: "mono" });
  const fromInput = h("input", { name: "from", type: "datetime-local", step: "1", value: isoToLocalInput(filters.from) });
  const toInput = h("input", { name: "to", type: "datetime-local", step: "1", value: isoToLocalInput(filters.to) });
  const topSelect = h("select", { name: "top" }, ["10", "25", "50", "100"].map(
    (n) => h("option", { value: n, selected: n === filters.top }, n)));
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter instances", onsubmit: apply },
    field("Status", statusSelect), field("Name", nameInput, "part of the orchestrator's name"),
    field("Instance ID prefix", prefixInput), field("Created from", fromInput), field("Created to", toInput),
    field("Per page", topSelect),
    h("div", { class: "buttons" }, h("button", { type: "submit" }, "Apply filters"),
      h("button", { type: "button", class: "secondary", onclick: () => { location.hash = "#/instances"; } },
        "Clear")));

  const autoRefresh = h("input", { type: "checkbox", id: "auto-refresh", checked: true });
  const refreshState = h("span", { class: "muted", id: "refresh-state" });
  const tbody = h("tbody");
  const caption = h("caption", {}, "Instances");
  const table = h("table", { class: "list", id: "instances" }, caption,
    h("thead", {}, h("tr", {}, ["Instance ID", "Name", "Status", "Created", "Last updated", "Duration"].map(
      (c) => h("th", { scope: "col" }, c)))), tbody);
  const prev = h("button", { type: "button", class: "secondary", onclick: () => go(-1) }, "← Previous page");
  const next = h("button", { type: "button", class: "secondary", onclick: () => go(1) }, "Next page →");
  const pageLabel = h("span", { class: "muted" });
  const errorBox = h("div", { role: "alert" });

  main.append(
    h("div", { class: "title" }, h("h1", {}, "Instances"),
      h("a", { class: "button", href: "#/start" }, "Start an orchestration")),
    form,
    h("div", { class: "toolbar" },
      h("label", { class: "check" }, autoRefresh, " Refresh while anything runs"), refreshState,
      h("button", { type: "button", class: "secondary", onclick: () => load() }, "Refresh now")),
    errorBox,
    h("div", { class: "table-wrap" }, table),
    h("nav", { class: "pager", "aria-label": "Pages" }, prev, pageLabel, next));

  function apply(event) {
    event.preventDefault();
    const query = new URLSearchParams();
    const values = { status: statusSelect.value, name: nameInput.value.trim(), prefix: prefixInput.value.trim(),
                     from: localInputToIso(fromInput.value), to: localInputToIso(toInput.value), top: topSelect.value };
    for (const [key, value] of Object.entries(values)) if (value && !(key === "top" && value === "25")) query.set(key, value);
    const target = `#/instances${query.toString() ? `?${query}` : ""}`;
    if (location.hash === target) load();
    else location.hash = target;
  }

  async function fetchPage(token) {
    const params = { runtimeStatus: filters.status, instanceIdPrefix: filters.prefix, createdTimeFrom: filters.from,
                     createdTimeTo: filters.to, top: filters.top, showInput: "false" };
    const headers = token ? { "x-ms-continuation-token": token } : {};
    return call("GET", "instances/", { params, headers });
  }

  async function load() {
    // The API has no name filter: with one, pages are read until this page is full or the list ends.
    const wanted = Number(filters.top);
    const name = filters.name.toLowerCase();
    let token = tokens[tokens.length - 1];
    const found = [];
    for (let page = 0; page < (name ? MAX_PAGES_FOR_NAME : 1); page++) {
      const answer = await fetchPage(token);
      if (!answer.ok || !Array.isArray(answer.json)) {
        errorBox.replaceChildren(answerBlock("Listing instances", answer));
        return;
      }
      found.push(...answer.json.filter((s) => !name || (s.name || "").toLowerCase().includes(name)));
      token = answer.headers.get("x-ms-continuation-token") || null;
      if (!token || found.length >= wanted) break;
    }
    errorBox.replaceChildren();
    items = found;
    nextToken = token;
    draw();
  }

  function draw() {
    tbody.replaceChildren(...items.map((s) => h("tr", { "data-instance-id": s.instanceId },
      h("td", { "data-label": "Instance ID" }, instanceLink(s.instanceId)),
      h("td", { "data-label": "Name" }, s.name),
      h("td", { "data-label": "Status" }, statusBadge(s.runtimeStatus)),
      h("td", { "data-label": "Created" }, timeElement(s.createdTime)),
      h("td", { "data-label": "Last updated" }, timeElement(s.lastUpdatedTime)),
      h("td", { "data-label": "Duration", class: "num" }, formatInstanceDuration(s)))));
    if (!items.length) {
      tbody.append(h("tr", {}, h("td", { colspan: "6", class: "empty" }, "No instances match.")));
    }
    caption.textContent = `Instances, page ${tokens.length}: ${items.length} shown`;
    pageLabel.textContent = `Page ${tokens.length}`;
    prev.disabled = tokens.length <= 1;
    next.disabled = !nextToken;
    const running = items.filter((s) => RUNNING.has(s.runtimeStatus)).length;
    refreshState.textContent = running && autoRefresh.checked ? `${running} running: refreshing every 2 s` : "";
  }

  async function go(step) {
    if (step > 0 && nextToken) tokens.push(nextToken);
    if (step < 0 && tokens.length > 1) tokens.pop();
    await load();
    announce(`Page ${tokens.length}, ${items.length} instances`);
  }

  autoRefresh.addEventListener("change", draw);
  await load();
  return poller(load, REFRESH_MS, () => autoRefresh.checked && items.some((s) => RUNNING.has(s.runtimeStatus)));
}

/** The app's orchestrator functions, from the host's read-only admin API. */
export async function orchestratorNames() {
  const answer = await call("GET", "/admin/functions");
  if (!answer.ok || !Array.isArray(answer.json)) return [];
  return answer.json.filter((f) => (f.config?.bindings || []).some((b) => b.type === "orchestrationTrigger"))
    .map((f) => f.name).sort();
}

export async function renderStart(main, params) {
  const names = await orchestratorNames();
  // A field with suggestions rather than a list: with keys required the admin API may answer only the master key.
  const nameSelect = h("input", { name: "orchestrator", required: true, list: "orchestrators", autocomplete: "off",
                                  value: params.get("name") || names[0] || "" });
  const suggestions = h("datalist", { id: "orchestrators" }, names.map((n) => h("option", { value: n })));
  const idInput = h("input", { name: "instanceId", class: "mono", autocomplete: "off" });
  const inputArea = h("textarea", { name: "input", rows: "6", class: "mono", spellcheck: "false" });
  const result = h("div", { class: "result" });
  const form = h("form", { class: "stack", onsubmit: start },
    field("Orchestrator", nameSelect, names.length ? `this app's: ${names.join(", ")}` : null), suggestions,
    field("Instance ID (optional)", idInput, "leave empty for a new GUID"),
    field("Input (JSON, optional)", inputArea,
          'for example {"numbers": [1, 2, 3]}; sent as the Python SDK client sends it, for get_input()'),
    h("div", { class: "buttons" }, h("button", { type: "submit" }, "Start")));
  main.append(h("h1", {}, "Start an orchestration"), form, result);

  async function start(event) {
    event.preventDefault();
    const input = readUserJson(inputArea, result);
    if (!input.ok) return;
    const id = idInput.value.trim();
    const name = nameSelect.value.trim();
    if (!await confirmAction(`Start ${name}${id ? ` as ${id}` : ""}?`, "Start")) return;
    const path = `orchestrators/${encode(name)}${id ? `/${encode(id)}` : ""}`;
    const body = sdkEncoded(input.text);
    const answer = await call("POST", path, {
      body: body || undefined, headers: body ? { "Content-Type": "application/json" } : {},
    });
    const link = answer.json?.id ? h("p", {}, "Started: ", instanceLink(answer.json.id)) : null;
    result.replaceChildren(answerBlock("Start", answer), link || "");
    announce(answer.ok ? `Started ${answer.json?.id}` : `Start failed with HTTP ${answer.status}`);
  }
}

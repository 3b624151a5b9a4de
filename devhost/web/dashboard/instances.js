// The instances list: newest first, sortable by column, with the total and the count of each status, filters,
// pages, refresh while anything runs, and terminate or purge of everything the filter matches (devhost's read API
// GET /devhost/api/instances lists; each action is the management API's). And the form that starts an orchestration.
import {
  FINISHED, RUNNING, STATUSES, announce, answerBlock, call, confirmAction, encode, field, formatInstanceDuration, h,
  instanceLink, isoToLocalInput, localInputToIso, plural, readUserJson, poller, sdkEncoded, statusBadge, timeElement,
  zoneLabel,
} from "./common.js";

const REFRESH_MS = 2000;
const LISTING = "/devhost/api/instances";
const BULK_PAGE = 1000; // the listing's largest page: bulk actions read the ids in pages of this many
const BULK_PARALLEL = 6; // management calls in flight at once during a bulk action
const DEFAULTS = { top: "25", sort: "createdTime", order: "desc", page: "1" };
// The sortable columns: [label, sort key, the first direction when chosen (times newest first)]
const COLUMNS = [["Instance ID"], ["Name", "name", "asc"], ["Status", "runtimeStatus", "asc"],
                 ["Created", "createdTime", "desc"], ["Last updated", "lastUpdatedTime", "desc"], ["Duration"]];

export async function renderInstances(main, params) {
  const filters = {
    status: params.get("status") || "", name: params.get("name") || "", prefix: params.get("prefix") || "",
    from: params.get("from") || "", to: params.get("to") || "",
  };
  for (const [key, value] of Object.entries(DEFAULTS)) filters[key] = params.get(key) || value;
  let listing = { instances: [], total: 0, counts: {} };

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
    field("Instance ID prefix", prefixInput), field(`Created from (${zoneLabel()})`, fromInput),
    field(`Created to (${zoneLabel()})`, toInput), field("Per page", topSelect),
    h("div", { class: "buttons" }, h("button", { type: "submit" }, "Apply filters"),
      h("button", { type: "button", class: "secondary", onclick: () => { location.hash = "#/instances"; } },
        "Clear")));

  const autoRefresh = h("input", { type: "checkbox", id: "auto-refresh", checked: true });
  const refreshState = h("span", { class: "muted", id: "refresh-state" });
  const counts = h("p", { id: "counts", class: "counts", "aria-live": "polite" });
  const terminateAll = h("button", { type: "button", class: "danger", "data-action": "terminate-matching",
                                     onclick: () => bulk("terminate") }, "Terminate matching");
  const purgeAll = h("button", { type: "button", class: "danger", "data-action": "purge-matching",
                                 onclick: () => bulk("purge") }, "Purge matching");
  const bulkResult = h("div", { id: "bulk-result" });
  const tbody = h("tbody");
  const caption = h("caption", {}, "Instances");
  const headRow = h("tr");
  const table = h("table", { class: "list", id: "instances" }, caption, h("thead", {}, headRow), tbody);
  const prev = h("button", { type: "button", class: "secondary", onclick: () => go(-1) }, "← Previous page");
  const next = h("button", { type: "button", class: "secondary", onclick: () => go(1) }, "Next page →");
  const pageLabel = h("span", { class: "muted", id: "page-label" });
  const errorBox = h("div", { role: "alert" });

  main.append(
    h("div", { class: "title" }, h("h1", {}, "Instances"),
      h("a", { class: "button", href: "#/start" }, "Start an orchestration")),
    form,
    h("div", { class: "toolbar" },
      h("label", { class: "check" }, autoRefresh, " Refresh while anything runs"), refreshState,
      h("button", { type: "button", class: "secondary", onclick: () => load() }, "Refresh now")),
    counts,
    h("div", { class: "toolbar bulk" }, terminateAll, purgeAll),
    bulkResult, errorBox,
    h("div", { class: "table-wrap" }, table),
    h("nav", { class: "pager", "aria-label": "Pages" }, prev, pageLabel, next));

  /** The address of this list with some of its parameters changed (defaults left out, so links stay short). */
  function hashWith(changes) {
    const values = { ...filters, ...changes };
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(values)) if (value && value !== DEFAULTS[key]) query.set(key, value);
    return `#/instances${query.toString() ? `?${query}` : ""}`;
  }

  function navigate(target) {
    if (location.hash === target) load();
    else location.hash = target;
  }

  function apply(event) {
    event.preventDefault();
    navigate(hashWith({ status: statusSelect.value, name: nameInput.value.trim(), prefix: prefixInput.value.trim(),
                        from: localInputToIso(fromInput.value), to: localInputToIso(toInput.value),
                        top: topSelect.value, page: "1" }));
  }

  function apiFilters() {
    return { runtimeStatus: filters.status, name: filters.name, instanceIdPrefix: filters.prefix,
             createdTimeFrom: filters.from, createdTimeTo: filters.to };
  }

  async function load() {
    const answer = await call("GET", LISTING, { params: {
      ...apiFilters(), sort: filters.sort, order: filters.order, top: filters.top, page: filters.page } });
    if (!answer.ok || !Array.isArray(answer.json?.instances)) {
      errorBox.replaceChildren(answerBlock("Listing instances", answer));
      return;
    }
    errorBox.replaceChildren();
    listing = answer.json;
    draw();
  }

  function sortHeader([label, key, first]) {
    if (!key) return h("th", { scope: "col" }, label);
    const active = filters.sort === key;
    const order = active ? (filters.order === "asc" ? "desc" : "asc") : first;
    const arrow = active ? (filters.order === "asc" ? " ▲" : " ▼") : "";
    return h("th", { scope: "col", "aria-sort": active ? (filters.order === "asc" ? "ascending" : "descending") : null },
      h("a", { href: hashWith({ sort: key, order, page: "1" }), class: "sort", "data-sort": key },
        label, h("span", { "aria-hidden": "true" }, arrow)));
  }

  /** The statuses a bulk action can act on among those the filter matches, and how many instances have them. */
  function bulkTargets(kind) {
    const chosen = filters.status ? [filters.status] : STATUSES;
    const statuses = chosen.filter((s) => (kind === "purge") === FINISHED.has(s));
    return { statuses, count: statuses.reduce((n, s) => n + (listing.counts[s] || 0), 0) };
  }

  function draw() {
    const items = listing.instances;
    const page = Number(filters.page);
    const pages = Math.max(1, Math.ceil(listing.total / Number(filters.top)));
    headRow.replaceChildren(...COLUMNS.map(sortHeader));
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
    const statusCounts = STATUSES.filter((s) => listing.counts[s]).map((s) => h("li", {},
      h("a", { href: hashWith({ status: s, page: "1" }), "data-status": s }, statusBadge(s), ` ${listing.counts[s]}`)));
    const matches = `${plural(listing.total, "instance")} match${listing.total === 1 ? "es" : ""}`;
    counts.replaceChildren(h("strong", { id: "total" }, matches),
      statusCounts.length ? h("ul", { class: "inline status-counts", "aria-label": "How many in each state" }, statusCounts) : "");
    caption.textContent = `Instances, page ${page} of ${pages}: ${items.length} shown of ${listing.total}`;
    pageLabel.textContent = `Page ${page} of ${pages}`;
    prev.disabled = page <= 1;
    next.disabled = page >= pages;
    const terminate = bulkTargets("terminate").count;
    const purge = bulkTargets("purge").count;
    terminateAll.textContent = `Terminate ${plural(terminate, "unfinished instance")}`;
    purgeAll.textContent = `Purge ${plural(purge, "finished instance")}`;
    terminateAll.disabled = !terminate;
    purgeAll.disabled = !purge;
    const running = STATUSES.filter((s) => RUNNING.has(s)).reduce((n, s) => n + (listing.counts[s] || 0), 0);
    refreshState.textContent = running && autoRefresh.checked
      ? `${plural(running, "instance")} running: refreshing every 2 s` : "";
  }

  function go(step) {
    navigate(hashWith({ page: String(Math.max(1, Number(filters.page) + step)) }));
  }

  /** Every instance id the filter matches with one of `statuses`, read in pages from the listing. */
  async function matchingIds(statuses) {
    const ids = [];
    for (let page = 1; ; page++) {
      const answer = await call("GET", LISTING, { params: {
        ...apiFilters(), runtimeStatus: statuses.join(","), order: "asc", top: String(BULK_PAGE), page: String(page) } });
      if (!answer.ok) return { answer };
      ids.push(...answer.json.instances.map((s) => s.instanceId));
      if (answer.json.instances.length < BULK_PAGE) return { ids };
    }
  }

  /** Terminate the unfinished or purge the finished instances the filter matches, after a confirmation that
   * names how many; one management API call for each, a few at a time. */
  async function bulk(kind) {
    const { statuses, count } = bulkTargets(kind);
    const what = kind === "purge" ? plural(count, "finished instance") : plural(count, "unfinished instance");
    const question = kind === "purge"
      ? `Purge ${what} matching the filter, with their histories? This cannot be undone.`
      : `Terminate ${what} matching the filter?`;
    if (!await confirmAction(question, kind === "purge" ? "Purge all" : "Terminate all")) return;
    const found = await matchingIds(statuses);
    if (!found.ids) {
      bulkResult.replaceChildren(answerBlock("Listing instances", found.answer));
      return;
    }
    const failures = [];
    let done = 0;
    const queue = [...found.ids];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const answer = kind === "purge"
          ? await call("DELETE", `instances/${encode(id)}`)
          : await call("POST", `instances/${encode(id)}/terminate`, { params: { reason: "terminated from the dashboard" } });
        if (answer.ok) done += 1;
        else if (!(kind === "terminate" && answer.status === 410)) failures.push(`${id}: HTTP ${answer.status}`);
      }
    };
    await Promise.all(Array.from({ length: BULK_PARALLEL }, worker));
    const verb = kind === "purge" ? "Purged" : "Terminated";
    const text = `${verb} ${done} of ${plural(found.ids.length, "instance")}.`;
    bulkResult.replaceChildren(h("div", { class: `answer ${failures.length ? "error" : "ok"}`, role: "status" },
      h("strong", {}, text), failures.length ? h("pre", { tabindex: "0" }, failures.join("\n")) : ""));
    announce(text);
    await load();
  }

  autoRefresh.addEventListener("change", draw);
  await load();
  return poller(load, REFRESH_MS, () => autoRefresh.checked &&
    (listing.instances.some((s) => RUNNING.has(s.runtimeStatus)) ||
     STATUSES.some((s) => RUNNING.has(s) && listing.counts[s])));
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

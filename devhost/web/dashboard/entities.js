// Durable entities: the list with state and last operation time (GET entities[/{name}]?fetchState=true, paged by
// the continuation token), a form that signals an operation (POST entities/{name}/{key}?op=), and one entity's page
// (devhost's GET /devhost/api/entities/{name}/{key}) with Delete (the management API's DELETE entities/{name}/{key},
// which signals the "delete" operation, as the extension deletes an entity).
import {
  announce, answerBlock, call, confirmAction, encode, field, h, jsonBlock, plural, readUserJson, sdkEncoded,
  timeElement,
} from "./common.js";

const EMPTY_KEY = "$"; // the key in an entity's URL that stands for the empty key
const entityHash = (name, key) => `#/entities/${encode(name)}/${encode(key === "" ? EMPTY_KEY : key)}`;

export async function renderEntities(main, params) {
  const nameFilter = params.get("name") || "";
  const tokens = [null];
  let nextToken = null;
  let items = [];

  const filterInput = h("input", { name: "entityName", type: "search", value: nameFilter, autocomplete: "off" });
  const filterForm = h("form", { class: "filters", role: "search", "aria-label": "Filter entities", onsubmit: (e) => {
    e.preventDefault();
    const name = filterInput.value.trim();
    const target = name ? `#/entities?name=${encode(name)}` : "#/entities";
    if (location.hash === target) reload(); else location.hash = target;
  } }, field("Entity name", filterInput, "exact name, any case"),
  h("div", { class: "buttons" }, h("button", { type: "submit" }, "Apply"),
    h("button", { type: "button", class: "secondary", onclick: () => reload() }, "Refresh")));

  const tbody = h("tbody");
  const caption = h("caption", {}, "Entities");
  const prev = h("button", { type: "button", class: "secondary", onclick: () => go(-1) }, "← Previous page");
  const next = h("button", { type: "button", class: "secondary", onclick: () => go(1) }, "Next page →");
  const errorBox = h("div", { role: "alert" });

  const sigName = h("input", { name: "signalEntity", required: true, autocomplete: "off", value: nameFilter });
  const sigKey = h("input", { name: "signalKey", required: true, autocomplete: "off", class: "mono" });
  const sigOp = h("input", { name: "signalOperation", required: true, autocomplete: "off" });
  const sigInput = h("textarea", { name: "signalInput", rows: "3", class: "mono", spellcheck: "false" });
  const result = h("div", { class: "result" });
  const signalForm = h("form", { class: "card stack", id: "signal", "aria-labelledby": "signal-title", onsubmit: signal },
    h("h2", { id: "signal-title" }, "Signal an entity"),
    h("div", { class: "row3" }, field("Entity name", sigName), field("Entity key", sigKey), field("Operation", sigOp)),
    field("Operation input (JSON, optional)", sigInput,
          "for example 5; sent as the Python SDK client's signal_entity sends it, for get_input()"),
    h("div", { class: "buttons" }, h("button", { type: "submit" }, "Send signal")), result);

  main.append(h("h1", {}, "Entities"), filterForm, errorBox,
    h("div", { class: "table-wrap" }, h("table", { class: "list", id: "entities" }, caption,
      h("thead", {}, h("tr", {}, ["Name", "Key", "State", "Last operation", ""].map(
        (c) => h("th", { scope: "col" }, c)))), tbody)),
    h("nav", { class: "pager", "aria-label": "Pages" }, prev, next),
    signalForm);

  async function load() {
    const token = tokens[tokens.length - 1];
    const path = nameFilter ? `entities/${encode(nameFilter)}` : "entities";
    const answer = await call("GET", path, { params: { fetchState: "true", top: "50" },
                                             headers: token ? { "x-ms-continuation-token": token } : {} });
    if (!answer.ok || !Array.isArray(answer.json)) {
      errorBox.replaceChildren(answerBlock("Listing entities", answer));
      return;
    }
    errorBox.replaceChildren();
    items = answer.json;
    nextToken = answer.headers.get("x-ms-continuation-token") || null;
    draw();
  }

  function draw() {
    tbody.replaceChildren(...items.map((e) => h("tr", { "data-entity": `${e.entityId.name}/${e.entityId.key}` },
      h("td", { "data-label": "Name" }, e.entityId.name),
      h("td", { "data-label": "Key", class: "mono" }, h("a", { href: entityHash(e.entityId.name, e.entityId.key) },
        e.entityId.key === "" ? "(empty key)" : e.entityId.key)),
      h("td", { "data-label": "State", class: "state" }, jsonBlock(e.state, `State of ${e.entityId.name} ${e.entityId.key}`)),
      h("td", { "data-label": "Last operation" }, timeElement(e.lastOperationTime, true)),
      h("td", {}, h("button", { type: "button", class: "secondary small", onclick: () => {
        sigName.value = e.entityId.name;
        sigKey.value = e.entityId.key;
        sigOp.focus();
      } }, "Signal…")))));
    if (!items.length) tbody.append(h("tr", {}, h("td", { colspan: "5", class: "empty" }, "No entities with state.")));
    caption.textContent = `Entities, page ${tokens.length}: ${plural(items.length, "entity", "entities")} shown`;
    prev.disabled = tokens.length <= 1;
    next.disabled = !nextToken;
  }

  async function reload() {
    tokens.splice(1);
    await load();
  }

  async function go(step) {
    if (step > 0 && nextToken) tokens.push(nextToken);
    if (step < 0 && tokens.length > 1) tokens.pop();
    await load();
    announce(`Page ${tokens.length}, ${plural(items.length, "entity", "entities")}`);
  }

  async function signal(event) {
    event.preventDefault();
    const input = readUserJson(sigInput, result);
    if (!input.ok) return;
    const [name, key, op] = [sigName.value.trim(), sigKey.value.trim(), sigOp.value.trim()];
    if (!await confirmAction(`Signal "${op}" to ${name}/${key}?`, "Send signal")) return;
    const body = sdkEncoded(input.text);
    const answer = await call("POST", `entities/${encode(name)}/${encode(key)}`, {
      params: { op }, body: body || undefined, headers: body ? { "Content-Type": "application/json" } : {} });
    result.replaceChildren(answerBlock("Signal", answer));
    announce(`Signal: HTTP ${answer.status}`);
    // A signal is applied a moment later: look again a few times.
    for (const delay of [300, 1000, 2500]) setTimeout(() => { if (signalForm.isConnected) load(); }, delay);
  }

  await load();
  return null;
}

/** One entity: its state and last operation time, and Delete. */
export async function renderEntity(main, name, key) {
  const realKey = key === EMPTY_KEY ? "" : key;
  const summary = h("div", { class: "card entity-detail" });
  const result = h("div", { class: "result", id: "action-result" });
  const remove = h("button", { type: "button", class: "danger", "data-action": "delete-entity", onclick: del },
                   "Delete");
  main.append(h("p", {}, h("a", { href: "#/entities" }, "← Entities")),
    h("h1", {}, "Entity ", h("span", { class: "mono" }, `${name}/${realKey}`)), summary,
    h("div", { class: "buttons" }, remove), result);

  /** Draws the entity; false when it has no state (never set, or deleted). */
  async function load() {
    const answer = await call("GET", `/devhost/api/entities/${encode(name)}/${encode(key)}`);
    if (answer.ok && answer.json && !answer.json.exists) {
      summary.replaceChildren(h("p", { role: "alert", class: "answer error", id: "no-entity" },
        "This entity has no state: it was never set, or it was deleted. ",
        h("a", { href: "#/entities" }, "All entities")));
      remove.disabled = true;
      return false;
    }
    if (!answer.ok || !answer.json) {
      summary.replaceChildren(answerBlock("Reading the entity", answer));
      return true;
    }
    const entity = answer.json;
    summary.replaceChildren(h("dl", { class: "summary" },
      h("dt", {}, "Name"),
      h("dd", {}, h("a", { href: `#/entities?name=${encode(entity.entityId.name)}` }, entity.entityId.name)),
      h("dt", {}, "Key"), h("dd", { class: "mono" }, entity.entityId.key === "" ? "(empty key)" : entity.entityId.key),
      h("dt", {}, "Last operation"), h("dd", {}, timeElement(entity.lastOperationTime, true)),
      h("dt", {}, "State"), h("dd", { class: "state" }, jsonBlock(entity.state, `State of ${name} ${realKey}`))));
    remove.disabled = false;
    return true;
  }

  async function del() {
    const question = `Delete entity ${name}/${realKey} and its state? This cannot be undone.`;
    if (!await confirmAction(question, "Delete")) return;
    const answer = await call("DELETE", `entities/${encode(name)}/${encode(realKey)}`);
    result.replaceChildren(answerBlock("Delete", answer));
    announce(`Delete: HTTP ${answer.status}`);
    // The delete is a signal, applied a moment later: look again until the state is gone.
    for (const delay of [100, 300, 600, 1000, 2000, 4000]) {
      if (!summary.isConnected || !await load()) break;
      await new Promise((resolve) => { setTimeout(resolve, delay); });
    }
  }

  await load();
  return null;
}

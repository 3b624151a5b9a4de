// The app's functions with their triggers and bindings, as the start-up banner lists them, from the host's
// read-only admin API (GET /admin/functions), and the functions that were not loaded, with why (host status).
import { call, h, plural } from "./common.js";

function trigger(fn) {
  const bindings = fn.config?.bindings || [];
  const t = bindings.find((b) => /Trigger$/.test(b.type)) || {};
  if (t.type === "httpTrigger") {
    const methods = (t.methods || []).map((m) => m.toUpperCase()).join(",") || "ALL";
    return h("span", {}, `[${methods}] `, h("span", { class: "mono" }, fn.invoke_url_template || ""));
  }
  return t.type || "?";
}

export async function renderFunctions(main) {
  const [functions, host] = await Promise.all([call("GET", "/admin/functions"), call("GET", "/admin/host/status")]);
  const list = Array.isArray(functions.json) ? functions.json : [];
  const errors = host.json?.errors || [];
  main.append(h("h1", {}, "Functions"));
  if (!functions.ok) {
    main.append(h("p", { role: "alert", class: "answer error" }, functions.status === 401
      ? "The host's admin API takes the master key: open the dashboard with ?code=<master key> to see the functions."
      : `GET /admin/functions answered HTTP ${functions.status}.`));
    return null;
  }
  main.append(
    h("div", { class: "table-wrap" }, h("table", { class: "list", id: "functions" },
      h("caption", {}, `${plural(list.length, "function")} loaded`),
      h("thead", {}, h("tr", {}, ["Name", "Trigger", "Bindings"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, list.map((fn) => h("tr", {},
        h("td", { "data-label": "Name" }, h("span", {}, fn.name, fn.isDisabled ? " (disabled)" : "")),
        h("td", { "data-label": "Trigger" }, trigger(fn)),
        h("td", { "data-label": "Bindings" }, h("ul", { class: "bindings" }, (fn.config?.bindings || []).map(
          (b) => h("li", {}, h("span", { class: `dir dir-${(b.direction || "").toLowerCase()}` }, b.direction || ""), " ",
            h("strong", {}, b.type), " ", h("span", { class: "mono" }, b.name)))))))))),
    h("section", { class: "card", "aria-labelledby": "skipped-title", id: "not-loaded" },
      h("h2", { id: "skipped-title" }, "Not loaded"),
      errors.length ? h("ul", {}, errors.map((e) => h("li", {}, e)))
        : h("p", { class: "muted" }, "Every function was loaded.")));
  return null;
}

// The dashboard's router: the hash (#/instances, #/instances/<id>, #/entities, #/entities/<name>/<key>, #/functions,
// #/start) picks a view; /devhost/instances/<id> is turned into its hash form. Each view renders into <main> and
// returns a cleanup. The header's zone toggle draws the view again.
import { setTimeZone, timeZone } from "./common.js";
import { renderEntities, renderEntity } from "./entities.js";
import { renderFunctions } from "./functions.js";
import { renderInstance } from "./instance.js";
import { renderInstances, renderStart } from "./instances.js";

const main = document.getElementById("main");
let cleanup = null;
let lastPath = null;

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/instances";
  const [path, query = ""] = raw.split("?");
  return { path, params: new URLSearchParams(query) };
}

async function route() {
  const { path, params } = parseHash();
  if (cleanup) { cleanup(); cleanup = null; }
  const parts = path.split("/").filter(Boolean);
  const section = parts[0] || "instances";
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.section === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  main.replaceChildren();
  const moved = lastPath !== path;
  lastPath = path;
  if (section === "instances" && parts.length > 1) {
    cleanup = await renderInstance(main, decodeURIComponent(parts.slice(1).join("/")));
  } else if (section === "entities" && parts.length > 2) {
    cleanup = await renderEntity(main, decodeURIComponent(parts[1]), decodeURIComponent(parts.slice(2).join("/")));
  } else if (section === "entities") {
    cleanup = await renderEntities(main, params);
  } else if (section === "functions") {
    cleanup = await renderFunctions(main);
  } else if (section === "start") {
    cleanup = await renderStart(main, params);
  } else {
    cleanup = await renderInstances(main, params);
  }
  if (moved) main.focus({ preventScroll: true });
}

const pathLink = /\/devhost\/instances\/(.+)$/.exec(location.pathname);
if (pathLink) {
  history.replaceState(null, "", `/devhost/${location.search}#/instances/${pathLink[1]}`);
}
// The skip link focuses the content; as a plain #main it would be taken for a route.
document.querySelector(".skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
// Times in UTC or local time: remembered in localStorage; the view is drawn again in the new zone.
const zone = document.getElementById("time-zone");
zone.value = timeZone();
zone.addEventListener("change", () => {
  setTimeZone(zone.value);
  route();
});
window.addEventListener("hashchange", route);
route();

// @ts-check
// The usage page. The key is typed in, kept in this tab's sessionStorage at most (until "Forget" or the tab closes),
// and sent only to this gateway's API in the Authorization header (api.js): never in a URL.
import { apiFetch, apiJson } from "./api.js";
import { renderUsage } from "./usage-view.js";

const STORED_KEY = "meshgate.apiKey";

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`the page has no #${id} of the right kind`);
  return el;
}

const form = byId("key-form", HTMLFormElement);
const input = byId("api-key", HTMLInputElement);
const view = byId("view", HTMLElement);
const problem = byId("problem", HTMLElement);
const actions = byId("actions", HTMLElement);
const download = byId("download", HTMLButtonElement);
const forget = byId("forget", HTMLButtonElement);

/** @param {string} message */
function showProblem(message) {
  problem.textContent = message;
  problem.hidden = message === "";
}

/** @param {string} key */
async function show(key) {
  showProblem("");
  view.textContent = "Loading…";
  try {
    const [byDay, byModel] = await Promise.all([
      apiJson("/v1/usage?group_by=day", key),
      apiJson("/v1/usage?group_by=model", key),
    ]);
    view.innerHTML = renderUsage(
      /** @type {import("./usage-view.js").UsageReport} */ (byDay),
      /** @type {import("./usage-view.js").UsageReport} */ (byModel),
    );
    sessionStorage.setItem(STORED_KEY, key);
    actions.hidden = false;
    form.hidden = true;
  } catch (err) {
    // A key the API refused is not kept.
    sessionStorage.removeItem(STORED_KEY);
    view.textContent = "";
    showProblem(err instanceof Error ? err.message : String(err));
  }
}

/** The CSV the API gives, fetched with the key (a plain link could not carry it) and saved from a Blob. */
async function downloadCsv() {
  const key = sessionStorage.getItem(STORED_KEY);
  if (key === null) return;
  try {
    const res = await apiFetch("/v1/usage?format=csv", key);
    const name = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? "usage.csv";
    const url = URL.createObjectURL(await res.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (err) {
    showProblem(err instanceof Error ? err.message : String(err));
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const key = input.value.trim();
  input.value = "";
  if (key !== "") void show(key);
});
download.addEventListener("click", () => void downloadCsv());
forget.addEventListener("click", () => {
  sessionStorage.removeItem(STORED_KEY);
  view.textContent = "";
  actions.hidden = true;
  form.hidden = false;
  showProblem("");
  input.focus();
});

const stored = sessionStorage.getItem(STORED_KEY);
if (stored !== null) void show(stored);

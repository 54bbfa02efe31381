// @ts-check
// The status page: GET /v1/mesh/status (public, cached by the gateway) every 10 s while the page is visible.
import { apiJson } from "./api.js";
import { renderStatus } from "./status-view.js";

const POLL_MS = 10_000;

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

const view = byId("view");
const problem = byId("problem");

async function refresh() {
  try {
    const status = /** @type {import("./status-view.js").MeshStatus} */ (await apiJson("/v1/mesh/status", null));
    view.innerHTML = renderStatus(status);
    view.setAttribute("aria-busy", "false");
    problem.hidden = true;
  } catch (err) {
    problem.textContent = `The mesh status could not be loaded: ${err instanceof Error ? err.message : String(err)}`;
    problem.hidden = false;
  }
}

/** Polls while the page is shown; a hidden tab asks nothing and catches up when shown again. */
function schedule() {
  setTimeout(async () => {
    if (!document.hidden) await refresh();
    schedule();
  }, POLL_MS);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) void refresh();
});
await refresh();
schedule();

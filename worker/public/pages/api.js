// @ts-check
// Requests to this gateway's own API (relative URLs: the page's origin and nothing else, as its CSP also says). A
// key goes in the Authorization header only, never in a URL.
import { parseExactJson } from "./exact-json.js";

/**
 * The API's own words for a failed request (OpenAI's error shape), or the status when the body says nothing.
 * @param {Response} res
 * @returns {Promise<string>}
 */
async function errorMessage(res) {
  const text = await res.text().catch(() => "");
  try {
    const body = /** @type {{ error?: { message?: unknown } }} */ (JSON.parse(text));
    if (typeof body.error?.message === "string") return body.error.message;
  } catch {
    // Not JSON: fall through to the status.
  }
  return `The gateway answered ${res.status} ${res.statusText}.`.replace(" .", ".");
}

/**
 * @param {string} path  starting with "/"
 * @param {string | null} key  an API key, sent as a bearer token
 * @returns {Promise<Response>}
 */
export async function apiFetch(path, key) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (key !== null) headers["authorization"] = `Bearer ${key}`;
  const res = await fetch(path, { headers, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" });
  if (!res.ok) throw new Error(await errorMessage(res));
  return res;
}

/**
 * JSON whose integers may pass 2^53, read exactly (exact-json.js).
 * @param {string} path
 * @param {string | null} key
 * @returns {Promise<unknown>}
 */
export async function apiJson(path, key) {
  return parseExactJson(await (await apiFetch(path, key)).text());
}

// GET /status, GET /usage and their files under /pages/: the web pages in worker/public, served by Workers static
// assets (the ASSETS binding) with the headers a page needs. The Worker runs first (wrangler.toml's run_worker_first),
// so only these paths ever reach the assets.
import { HttpError } from "../http/http-error.js";

/** The paths the Worker answers from the assets: the two pages and their files. Not API: OpenAPI leaves them out. */
export const PAGE_PATHS = ["/status", "/usage", "/pages/*"] as const;

/**
 * No inline script or style and nothing from elsewhere: the pages load their own files and talk to this gateway's
 * API only (`connect-src 'self'`), so a key typed into /usage can go nowhere else.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": PAGE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  // The files are not content-hashed (no build step): revalidate every time, which the assets' ETag makes a 304.
  "cache-control": "no-cache",
};

/** Only what a static file's answer depends on goes to the assets: never the caller's Authorization or cookies. */
function assetRequest(request: Request): Request {
  const headers = new Headers();
  const etag = request.headers.get("if-none-match");
  if (etag !== null) headers.set("if-none-match", etag);
  return new Request(request.url, { method: "GET", headers });
}

export async function pageRoute(request: Request, env: Env): Promise<Response> {
  const asset = await env.ASSETS.fetch(assetRequest(request));
  // A file that is not there is the same JSON 404 as any other unknown URL.
  if (asset.status === 404)
    throw new HttpError(404, `Invalid URL (${request.method} ${new URL(request.url).pathname})`, {
      code: "unknown_url",
    });
  const response = new Response(asset.body, asset);
  for (const [name, value] of Object.entries(PAGE_HEADERS)) response.headers.set(name, value);
  return response;
}

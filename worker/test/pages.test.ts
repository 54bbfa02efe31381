// The web pages (worker/public) as the Worker serves them: through the ASSETS binding, with headers that allow no
// inline script and no connection but to the gateway itself.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PAGE_CSP } from "../src/routes/pages.js";
import { BASE, errorBody } from "./helpers.js";

describe("the web pages", () => {
  it.each([
    ["/status", "text/html", "/pages/status.js"],
    ["/usage", "text/html", "/pages/usage.js"],
    ["/pages/usage.js", "text/javascript", "sessionStorage"],
    ["/pages/style.css", "text/css", ":root"],
  ])("serves %s as %s with the pages' security and cache headers", async (path, type, content) => {
    const res = await SELF.fetch(`${BASE}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain(type);
    expect(res.headers.get("content-security-policy")).toBe(PAGE_CSP);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(await res.text()).toContain(content);
  });

  it("allows scripts and connections to this origin only, and no inline script", () => {
    expect(PAGE_CSP).toContain("script-src 'self';");
    expect(PAGE_CSP).toContain("connect-src 'self';");
    expect(PAGE_CSP).toContain("default-src 'none'");
    expect(PAGE_CSP).not.toContain("unsafe-inline");
  });

  it("answers a file it does not have, or a page under another name, with the API's JSON 404", async () => {
    for (const path of ["/pages/nope.js", "/status.html", "/usage.html", "/pages/"]) {
      const res = await SELF.fetch(`${BASE}${path}`);
      expect(res.status).toBe(404);
      expect(await errorBody(res)).toMatchObject({ code: "unknown_url" });
    }
  });

  it("answers a revalidation with 304 when the file has not changed", async () => {
    const first = await SELF.fetch(`${BASE}/status`);
    await first.arrayBuffer();
    const etag = first.headers.get("etag");
    expect(etag).toBeTruthy();
    const again = await SELF.fetch(`${BASE}/status`, { headers: { "if-none-match": etag ?? "" } });
    expect(again.status).toBe(304);
  });
});

// The web pages in a real browser (Chromium from @sparticuz/chromium, driven by puppeteer-core) against the local
// gateway with real node agents: the status page shows what GET /v1/mesh/status reports, the usage page what
// GET /v1/usage reports for the key typed in, its CSV download is the API's CSV, and neither page logs an error,
// fails a request or puts the key in a URL. Screenshots land in .meshgate/screenshots/.
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { MeshStatusSchema } from "@meshgate/schemas";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MESHGATE_DIR } from "../gateway/paths.js";
import { pollUntil } from "../processes/index.js";
import { launchChromium, type Chromium, type WatchedPage } from "../pages/browser.js";
import { startPagesCluster, sendTraffic } from "../pages/demo.js";
import { meshStatus } from "../pages/fixtures.js";
import { formatInt, formatUsd } from "../../worker/public/pages/format.js";
import type { Cluster } from "./support/cluster.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

const SCREENSHOTS = join(MESHGATE_DIR, "screenshots");
const CHATS = 4;

interface UsageBody {
  totals: { requests: number; total_tokens: number; cost: number };
  data: { model?: string; day?: string; requests: number }[];
}

async function apiGet(cluster: Cluster, path: string, key: string | null = null): Promise<Response> {
  const res = await fetch(`${cluster.gateway.url}${path}`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return res;
}

const text = (page: Page, selector: string): Promise<string> =>
  page.$eval(selector, (el) => (el.textContent ?? "").trim());

/** The rows of a table as { name attribute → first cell text after the heading }. */
function rowFigures(page: Page, attribute: string): Promise<Record<string, string>> {
  return page.$$eval(
    `tr[${attribute}]`,
    (rows, name) => Object.fromEntries(rows.map((r) => [r.getAttribute(name), r.querySelector("td")?.textContent])),
    attribute,
  );
}

async function enterKey(page: Page, key: string): Promise<void> {
  await page.type("#api-key", key);
  await page.click("#key-form button[type=submit]");
}

describe("the web pages in Chromium", E2E, () => {
  let cluster: Cluster | undefined;
  let chromium: Chromium | undefined;
  const opened: WatchedPage[] = [];

  const mesh = (): Cluster => {
    if (!cluster) throw new Error("no cluster");
    return cluster;
  };
  const open = async (): Promise<WatchedPage> => {
    if (!chromium) throw new Error("no browser");
    const watched = await chromium.open();
    opened.push(watched);
    return watched;
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    cluster = await startPagesCluster("pages");
    chromium = await launchChromium();
    await sendTraffic(cluster, CHATS);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    // The browser and the processes go whatever happened; one failing to stop does not keep the other running.
    await Promise.allSettled([chromium?.close(), cluster?.stop()]);
  }, SETUP_TIMEOUT_MS);

  it("the status page shows the live nodes and the models GET /v1/mesh/status reports", async () => {
    const status = MeshStatusSchema.parse(await (await apiGet(mesh(), "/v1/mesh/status")).json());
    expect(status.nodes.live).toBe(2);
    const { page, problems } = await open();
    await page.goto(`${mesh().gateway.url}/status`);
    await page.waitForSelector('[data-figure="live-nodes"]');
    expect(await text(page, '[data-figure="live-nodes"] .value')).toBe(formatInt(status.nodes.live));
    const nodesPerModel = Object.fromEntries(status.models.map((m) => [m.id, formatInt(m.nodes)]));
    expect(await rowFigures(page, "data-model")).toEqual(nodesPerModel);
    expect(Object.keys(nodesPerModel).sort()).toEqual(["sim-embed", "sim-small"]);
    await page.screenshot({ path: join(SCREENSHOTS, "status.png") });
    expect(problems).toEqual([]);
  });

  it("the usage page shows the key's totals and groups as GET /v1/usage reports them, the key in no URL", async () => {
    const { apiKey } = mesh();
    const byDay = (await (await apiGet(mesh(), "/v1/usage?group_by=day", apiKey)).json()) as UsageBody;
    const byModel = (await (await apiGet(mesh(), "/v1/usage?group_by=model", apiKey)).json()) as UsageBody;
    expect(byDay.totals.requests).toBe(CHATS + 1);
    expect(byDay.totals.cost).toBeGreaterThan(0);
    const { page, problems, urls } = await open();
    await page.goto(`${mesh().gateway.url}/usage`);
    await enterKey(page, apiKey);
    await page.waitForSelector('[data-figure="spend"]');
    expect(await text(page, '[data-figure="spend"] .value')).toBe(formatUsd(byDay.totals.cost));
    expect(await text(page, '[data-figure="requests"] .value')).toBe(formatInt(byDay.totals.requests));
    expect(await text(page, '[data-figure="tokens"] .value')).toBe(formatInt(byDay.totals.total_tokens));
    const requestsBy = (body: UsageBody, by: "model" | "day") =>
      Object.fromEntries(body.data.map((g) => [g[by], formatInt(g.requests)]));
    expect(await rowFigures(page, "data-model")).toEqual(requestsBy(byModel, "model"));
    expect(await rowFigures(page, "data-day")).toEqual(requestsBy(byDay, "day"));
    await page.screenshot({ path: join(SCREENSHOTS, "usage.png"), fullPage: true });
    expect(problems).toEqual([]);
    expect(urls.filter((url) => url.includes(apiKey))).toEqual([]);
    // The key is in this tab's sessionStorage only: nothing in localStorage, no cookie.
    expect(await page.evaluate("[sessionStorage.length, localStorage.length, document.cookie]")).toEqual([1, 0, ""]);
  });

  it("the CSV download is the CSV the API gives, and Forget leaves the key nowhere", async () => {
    const { apiKey } = mesh();
    const csv = await (await apiGet(mesh(), "/v1/usage?format=csv", apiKey)).text();
    const { page, problems, urls } = await open();
    // One directory, emptied each run, so runs leave one CSV behind rather than one each.
    const downloads = join(SCREENSHOTS, "download");
    rmSync(downloads, { recursive: true, force: true });
    mkdirSync(downloads);
    const cdp = await page.createCDPSession();
    await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });
    await page.goto(`${mesh().gateway.url}/usage`);
    await enterKey(page, apiKey);
    await page.waitForSelector("#download:not([hidden])");
    await page.waitForSelector('[data-figure="spend"]');
    await page.click("#download");
    const file = await pollUntil(() => readdirSync(downloads).find((f) => f.endsWith(".csv")), {
      what: "the downloaded CSV",
      timeoutMs: 10_000,
    });
    expect(file).toMatch(/^usage-\d{8}-\d{8}\.csv$/);
    expect(readFileSync(join(downloads, file), "utf8")).toBe(csv);

    await page.click("#forget");
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
    expect(await page.$eval("#key-form", (form) => form.hasAttribute("hidden"))).toBe(false);
    await page.reload();
    expect(await text(page, "#view")).toBe("");
    expect(problems).toEqual([]);
    expect(urls.filter((url) => url.includes(apiKey))).toEqual([]);
  });

  it("a wrong key gets the API's own error message and is not kept", async () => {
    const refused = await fetch(`${mesh().gateway.url}/v1/usage`, { headers: { authorization: "Bearer sk-wrong" } });
    const message = ((await refused.json()) as { error: { message: string } }).error.message;
    const { page, problems } = await open();
    await page.goto(`${mesh().gateway.url}/usage`);
    await enterKey(page, "sk-wrong");
    await page.waitForSelector("#problem:not([hidden])");
    expect(await text(page, "#problem")).toBe(message);
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
    // The refusals themselves are all that went wrong: the browser logs each 401.
    expect(problems.filter((p) => !p.includes("401"))).toEqual([]);
  });

  it("renders the status of 10,000 nodes serving 500 models in one pass", async () => {
    const fixture = meshStatus({ live: 10_000, models: 500, perMinute: 7_000 });
    const { page, problems } = await open();
    // The page as it is, given a big mesh's status in place of this small one's.
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      if (new URL(request.url()).pathname !== "/v1/mesh/status") return void request.continue();
      void request.respond({ status: 200, contentType: "application/json", body: JSON.stringify(fixture) });
    });
    await page.goto(`${mesh().gateway.url}/status`);
    await page.waitForSelector('tr[data-model="model-0499"]');
    // The page's own module, rendering into the page: the time includes the browser's layout of the result. (A
    // string, since the tools' types have no DOM.)
    const measured = (await page.evaluate(`(async () => {
      const view = await import("/pages/status-view.js");
      const target = document.getElementById("view");
      const start = performance.now();
      target.innerHTML = view.renderStatus(${JSON.stringify(fixture)});
      target.getBoundingClientRect();
      return { ms: performance.now() - start, rows: target.querySelectorAll("tr[data-model]").length };
    })()`)) as { ms: number; rows: number };
    console.log(`status page, 500 models: rendered and laid out in ${measured.ms.toFixed(1)} ms`);
    expect(measured.rows).toBe(500);
    expect(await text(page, '[data-figure="live-nodes"] .value')).toBe("10,000");
    expect(problems).toEqual([]);
  });
});

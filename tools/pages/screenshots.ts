// npm run screenshots: regenerates docs/status-page.png and docs/usage-page.png (1280×800), the pages as they look
// against a local mesh (the gateway, two node agents, simulated backends) after some traffic.
import { join } from "node:path";
import { REPO_ROOT } from "../gateway/paths.js";
import { launchChromium, type Chromium } from "./browser.js";
import { sendTraffic, startPagesCluster } from "./demo.js";
import type { Cluster } from "../e2e/support/cluster.js";

const DOCS = join(REPO_ROOT, "docs");

async function shoot(cluster: Cluster, chromium: Chromium): Promise<void> {
  const { page, problems } = await chromium.open();
  await page.goto(`${cluster.gateway.url}/status`);
  await page.waitForSelector('[data-figure="live-nodes"]');
  await page.screenshot({ path: join(DOCS, "status-page.png") });
  await page.goto(`${cluster.gateway.url}/usage`);
  await page.type("#api-key", cluster.apiKey);
  await page.click("#key-form button[type=submit]");
  await page.waitForSelector('[data-figure="spend"]');
  await page.screenshot({ path: join(DOCS, "usage-page.png") });
  if (problems.length > 0) throw new Error(`the pages had problems:\n${problems.join("\n")}`);
}

async function main(): Promise<void> {
  let cluster: Cluster | undefined;
  let chromium: Chromium | undefined;
  try {
    cluster = await startPagesCluster("screenshots");
    await sendTraffic(cluster, 12);
    chromium = await launchChromium();
    await shoot(cluster, chromium);
    console.log(`wrote ${join(DOCS, "status-page.png")} and ${join(DOCS, "usage-page.png")}`);
  } finally {
    await Promise.allSettled([chromium?.close(), cluster?.stop()]);
  }
}

await main();

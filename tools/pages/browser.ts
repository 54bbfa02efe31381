// A headless Chromium for the pages' tests and screenshots: the browser @sparticuz/chromium ships inside its npm
// package (npm install brings it; nothing is downloaded), driven by puppeteer-core. Every page opened here records
// what a test must see clean: console errors, uncaught exceptions, failed or refused requests, and every URL asked.
import chromium from "@sparticuz/chromium";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { onShutdown } from "../processes/index.js";

/**
 * The package's flags, less those that would hide what the tests look for: its pages must run under the same-origin
 * policy and mixed-content rules a user's browser applies. --no-sandbox stays (root in a container has no sandbox).
 */
const DROPPED_ARGS = new Set(["--disable-web-security", "--allow-running-insecure-content"]);

export const VIEWPORT = { width: 1280, height: 800 };

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions, and requests that failed or were answered 4xx/5xx. */
  problems: string[];
  /** Every URL the page requested, in order. */
  urls: string[];
}

export interface Chromium {
  browser: Browser;
  /** A new tab, watched (see WatchedPage). */
  open(): Promise<WatchedPage>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  const browser = await puppeteer.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args.filter((arg) => !DROPPED_ARGS.has(arg)),
    headless: true,
    defaultViewport: VIEWPORT,
  });
  // If the test process is stopped rather than finishing, the browser goes with it.
  const unregister = onShutdown(() => browser.close());
  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= (async () => {
      unregister();
      await browser.close().catch(() => browser.process()?.kill("SIGKILL"));
    })();
    return closed;
  };
  return { browser, open: () => watch(browser), close };
}

async function watch(browser: Browser): Promise<WatchedPage> {
  const page = await browser.newPage();
  const problems: string[] = [];
  const urls: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) =>
    problems.push(`exception: ${error instanceof Error ? error.message : String(error)}`),
  );
  page.on("request", (request) => urls.push(request.url()));
  page.on("requestfailed", (request) => {
    // A download the page hands to the browser ends its request this way, though the file arrived.
    if (request.failure()?.errorText === "net::ERR_ABORTED" && request.url().startsWith("blob:")) return;
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ""}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return { page, problems, urls };
}

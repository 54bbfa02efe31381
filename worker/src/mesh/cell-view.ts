// This isolate's view of the admission cells (routing/cell-choice.ts): refreshed from the cells' directory about every
// 2 s, through the colo's cache so a colo's isolates share one read, and from every cell's own replies. Never
// waited for: an isolate with no view yet (cold) chooses cells at random and learns from their replies.
import { type DirectoryJson, summaryFromJson, type CellSummaryJson } from "../durable/cell-directory/summary-json.js";
import { admissionCells, cellDirectory } from "../durable/names.js";
import { CellView } from "../routing/index.js";

/**
 * How often an isolate reads the directory, and how long the colo's cache keeps one read: 300 colos make 150 reads a
 * second into the one directory, which also hears every cell's report (npm run load-model). Each cell's reply refreshes
 * its own part of the view meanwhile.
 */
export const DIRECTORY_TTL_MS = 2_000;
/** The cache key of the directory's read; any URL of ours works, it never leaves the colo. */
const DIRECTORY_CACHE_URL = "https://meshgate.internal/admission/directory";

let view: CellView | null = null;
let readAt = -Infinity;
let reading = false;

/** The view for the configured number of cells (a new, empty one when it changed), refreshed in the background. */
export function cellView(env: Env, ctx: ExecutionContext, now: number): CellView {
  const cells = admissionCells(env);
  if (!view || view.cells !== cells) {
    view = new CellView(cells);
    readAt = -Infinity;
  }
  // One cell: nothing to choose between.
  if (cells > 1 && now - readAt >= DIRECTORY_TTL_MS && !reading) {
    reading = true;
    readAt = now;
    const target = view;
    ctx.waitUntil(
      readDirectory(env, now)
        .then((directory) => {
          for (const summary of directory.cells) target.apply(summaryFromJson(summary));
        })
        .catch((err: unknown) => console.error("reading the cell directory failed", String(err)))
        .finally(() => (reading = false)),
    );
  }
  return view;
}

/** What a cell's reply said about itself: the freshest word on it. */
export function heardFromCell(summary: CellSummaryJson): void {
  view?.apply(summaryFromJson(summary));
}

async function readDirectory(env: Env, now: number): Promise<DirectoryJson> {
  const cache = await caches.open("meshgate-admission");
  const cached = await cache.match(DIRECTORY_CACHE_URL);
  if (cached) return (await cached.json()) as DirectoryJson;
  const directory = await cellDirectory(env).read(now);
  await cache.put(
    DIRECTORY_CACHE_URL,
    Response.json(directory, { headers: { "cache-control": `max-age=${DIRECTORY_TTL_MS / 1000}` } }),
  );
  return directory;
}

/** Tests: forget the view. */
export function forgetCellView(): void {
  view = null;
  readAt = -Infinity;
}

// A simulated isolate: its own copy of each Worker module that keeps state in module scope (the key cache in
// http/auth.ts, the usage batcher in mesh/reporting.ts, the cell view in mesh/cell-view.ts), loaded under a
// per-isolate query string so no two isolates share it, and the colo whose cache it reads through.
import type { ColoCaches } from "./colo-cache.js";

type AuthModule = typeof import("../../worker/src/http/auth.js");
type ReportingModule = typeof import("../../worker/src/mesh/reporting.js");
type CellViewModule = typeof import("../../worker/src/mesh/cell-view.js");

export interface Isolate {
  index: number;
  colo: number;
  auth: AuthModule;
  reporting: ReportingModule;
  cellView: CellViewModule;
}

/**
 * One copy of a module per isolate: the query string makes it a different module to the loader. `world` keeps two
 * runs in one process (tests) from sharing an isolate's caches.
 */
async function ownCopy<T>(path: string, world: number, isolate: number): Promise<T> {
  const url = new URL(`../../worker/src/${path}?world=${world}&isolate=${isolate}`, import.meta.url).href;
  return (await import(url)) as T;
}

/** A fresh number for each simulated world in this process. */
let worlds = 0;
export function newWorldNumber(): number {
  return ++worlds;
}

export async function loadIsolate(world: number, index: number, colo: number): Promise<Isolate> {
  const [auth, reporting, cellView] = await Promise.all([
    ownCopy<AuthModule>("http/auth.ts", world, index),
    ownCopy<ReportingModule>("mesh/reporting.ts", world, index),
    ownCopy<CellViewModule>("mesh/cell-view.ts", world, index),
  ]);
  return { index, colo, auth, reporting, cellView };
}

/**
 * An ExecutionContext for work off the response path: the runtime keeps it alive; here nothing is cancelled, so
 * only its failures need catching (and logging, since a failure is a bug in the model).
 */
export const backgroundContext = {
  waitUntil(promise: Promise<unknown>): void {
    promise.catch((err: unknown) => console.error("load model: background work failed", err));
  },
  passThroughOnException(): void {},
  props: {},
} as unknown as ExecutionContext;

/** Runs `fn` with the colo's caches as the global `caches`, as code in that colo sees them (set synchronously). */
export function inColo<T>(caches: ColoCaches, fn: () => T): T {
  (globalThis as { caches?: unknown }).caches = caches;
  return fn();
}

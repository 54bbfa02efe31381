// A simulated isolate: its own copy of each Worker module that keeps state in module scope (the key cache and its
// feed replica in http/auth.ts, the purses in mesh/key-purses.ts, the cell view in mesh/cell-view.ts), loaded under a
// per-isolate query string so no two isolates share it, and the colo whose cache it reads through.
import { AsyncLocalStorage } from "node:async_hooks";
import type { ColoCaches } from "./colo-cache.js";

type AuthModule = typeof import("../../worker/src/http/auth.js");
type PursesModule = typeof import("../../worker/src/mesh/key-purses.js");
type CellViewModule = typeof import("../../worker/src/mesh/cell-view.js");

export interface Isolate {
  index: number;
  colo: number;
  auth: AuthModule;
  purses: PursesModule;
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
  const [auth, purses, cellView] = await Promise.all([
    ownCopy<AuthModule>("http/auth.ts", world, index),
    ownCopy<PursesModule>("mesh/key-purses.ts", world, index),
    ownCopy<CellViewModule>("mesh/cell-view.ts", world, index),
  ]);
  return { index, colo, auth, purses, cellView };
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

/** The colo whose code is running, carried across awaits (a request's later steps run in its colo too). */
const coloNow = new AsyncLocalStorage<ColoCaches>();

const NO_CACHE = { match: async () => undefined, put: async () => {}, delete: async () => false };
const NO_CACHES = { default: NO_CACHE, open: async () => NO_CACHE };

/** Makes the global `caches` the running colo's, as code in that colo sees it. */
export function installColoCaches(): () => void {
  const had = Object.getOwnPropertyDescriptor(globalThis, "caches");
  Object.defineProperty(globalThis, "caches", {
    configurable: true,
    get: () => {
      const caches = coloNow.getStore();
      if (!caches) throw new Error("load model: the Cache API was used outside any colo");
      return caches;
    },
  });
  return () => {
    // Work still pending when a run ends (idle watches, feed reads) finds an empty cache, not an error or a later
    // run's colo.
    Object.defineProperty(globalThis, "caches", had ?? { configurable: true, value: NO_CACHES });
  };
}

/** Runs `fn`, and everything it awaits, in the colo with these caches. */
export function inColo<T>(caches: ColoCaches, fn: () => T): T {
  return coloNow.run(caches, fn);
}

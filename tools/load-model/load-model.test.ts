import { describe, expect, it } from "vitest";
import { KEY_CACHE_TTL_MS } from "../../worker/src/http/auth.js";
import { type LoadConfig, PRODUCTION } from "./config.js";
import { loadIsolate, newWorldNumber } from "./isolate.js";
import { runToday } from "./today.js";

/** A small world: 10 s counted after a warm-up. */
function small(overrides: Partial<LoadConfig>): LoadConfig {
  return {
    ...PRODUCTION,
    isolates: 1,
    colos: 1,
    rps: 200,
    keys: 1,
    nodes: 10,
    cells: 1,
    // Longer than the longest answer, so the counted window sees every request's calls, records included.
    warmupSeconds: 5,
    seconds: 10,
    ...overrides,
  };
}

async function countsOf(config: LoadConfig) {
  const run = await runToday(config);
  run.world.close();
  const loads = run.world.counter.window(run.from, run.to);
  const kind = (name: string) => loads.find((l) => l.kind === name);
  /** Calls of one method over the whole window (all objects of the kind). */
  const calls = (k: string, method: string) => Math.round((kind(k)?.methods[method] ?? 0) * config.seconds);
  return { kind, calls };
}

/**
 * Requests too sparse to meet a lookup in flight: today's cache has no in-flight sharing, so requests arriving while
 * an expired key is looked up each look it up too (a real cost the full run counts, not what these tests check).
 */
const SPARSE: Partial<LoadConfig> = { rps: 10, rttMs: 1 };

/** Lookups of one key by one isolate over `seconds`: one per TTL, give or take where the window cuts. */
function lookupsPerIsolate(seconds: number): [number, number] {
  const perTtl = (seconds * 1000) / KEY_CACHE_TTL_MS;
  return [Math.floor(perTtl) - 1, Math.ceil(perTtl)];
}

describe("the load model, today's design", () => {
  it("gives each isolate its own copy of the module-level state", async () => {
    const world = newWorldNumber();
    const [a, b] = await Promise.all([loadIsolate(world, 0, 0), loadIsolate(world, 1, 0)]);
    expect(a.auth).not.toBe(b.auth);
    expect(a.reporting).not.toBe(b.reporting);
    expect(a.cellView).not.toBe(b.cellView);
    expect((await loadIsolate(world, 0, 0)).auth).toBe(a.auth);
    expect((await loadIsolate(newWorldNumber(), 0, 0)).auth).not.toBe(a.auth);
  });

  it("counts one key lookup per cache lifetime per isolate", async () => {
    const one = await countsOf(small(SPARSE));
    const [low, high] = lookupsPerIsolate(10);
    const lookups = one.calls("ApiKeys", "lookup");
    expect(lookups).toBeGreaterThanOrEqual(low);
    expect(lookups).toBeLessThanOrEqual(high);
  });

  it("counts two account calls and two cell calls per request of a key with a budget", async () => {
    const one = await countsOf(small({}));
    const account = one.kind("KeyAccount");
    // Every request of a key with a budget reserves, then records its row at once.
    // 200 req/s, Poisson: well within ±10% over 10 s.
    expect(account?.methods["reserve"]).toBeGreaterThan(180);
    expect(account?.methods["reserve"]).toBeLessThan(220);
    // Records come an answer (1–3 s) later, so the window holds other requests' records: as many, within noise.
    expect(account?.methods["record"]).toBeGreaterThan(0.9 * (account?.methods["reserve"] ?? 0));
    expect(account?.methods["record"]).toBeLessThan(1.1 * (account?.methods["reserve"] ?? 0));
    const cell = one.kind("AdmissionCell");
    expect(Math.abs((cell?.methods["acquire"] ?? 0) - (account?.methods["reserve"] ?? 0))).toBeLessThan(2);
  });

  it("does not share key caches between isolates", async () => {
    const three = await countsOf(small({ ...SPARSE, isolates: 3, colos: 3 }));
    const [low, high] = lookupsPerIsolate(10);
    const lookups = three.calls("ApiKeys", "lookup");
    expect(lookups).toBeGreaterThanOrEqual(3 * low);
    expect(lookups).toBeLessThanOrEqual(3 * high);
  });

  it("reads the cell directory once a second per colo, whatever its isolates", async () => {
    const counts = await countsOf(small({ isolates: 4, colos: 1, cells: 2 }));
    const reads = counts.kind("CellDirectory")?.methods["read"] ?? 0;
    expect(reads).toBeGreaterThan(0.8);
    expect(reads).toBeLessThanOrEqual(1);
  });

  it("pushes each cold key's receipts to earnings shards one call per record", async () => {
    const counts = await countsOf(small({ keys: 50, hotShare: 0 }));
    const earnings = counts.kind("EarningsShard");
    const records = counts.kind("KeyAccount")?.methods["record"] ?? 0;
    expect(earnings?.totalPerSecond).toBeCloseTo(records, 0);
  });
});

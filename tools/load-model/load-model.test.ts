import { describe, expect, it } from "vitest";
import { type LoadConfig, PRODUCTION } from "./config.js";
import { runEdge } from "./edge.js";
import { loadIsolate, newWorldNumber } from "./isolate.js";

/** A small world, counted from its first request (no warm-up), so first lookups and leases are in the window. */
function small(overrides: Partial<LoadConfig>): LoadConfig {
  return {
    ...PRODUCTION,
    isolates: 1,
    colos: 1,
    rps: 50,
    keys: 1,
    nodes: 10,
    cells: 1,
    warmupSeconds: 0,
    seconds: 10,
    ...overrides,
  };
}

async function countsOf(config: LoadConfig) {
  const run = await runEdge(config);
  run.world.close();
  const loads = run.world.counter.window(run.from, run.to);
  const kind = (name: string) => loads.find((l) => l.kind === name);
  /** Calls of one method over the whole window (all objects of the kind). */
  const calls = (k: string, method: string) => Math.round((kind(k)?.methods[method] ?? 0) * config.seconds);
  return { kind, calls };
}

describe("the load model, this design", () => {
  it("gives each isolate its own copy of the module-level state", async () => {
    const world = newWorldNumber();
    const [a, b] = await Promise.all([loadIsolate(world, 0, 0), loadIsolate(world, 1, 0)]);
    expect(a.auth).not.toBe(b.auth);
    expect(a.purses).not.toBe(b.purses);
    expect(a.cellView).not.toBe(b.cellView);
    expect((await loadIsolate(world, 0, 0)).auth).toBe(a.auth);
    expect((await loadIsolate(newWorldNumber(), 0, 0)).auth).not.toBe(a.auth);
  });

  it("looks a key up once per isolate in a minute, and reads the feed once a second per colo", async () => {
    const counts = await countsOf(small({ isolates: 3, colos: 1 }));
    // The key cache keeps an entry 60 s: one lookup per isolate in 10 s.
    expect(counts.calls("ApiKeys (key index)", "lookup")).toBe(3);
    // One colo: its isolates share one read of the feed a second through the colo's cache (all three may miss it at
    // once when the colo starts, and a read due just as the cached one expires may come twice).
    const reads = counts.calls("KeyChanges", "read");
    expect(reads).toBeGreaterThanOrEqual(9);
    expect(reads).toBeLessThanOrEqual(10 + 3 + 2);
  });

  it("admits a busy key's requests from slices: a few account calls a second, not two per request", async () => {
    const counts = await countsOf(small({ isolates: 4, colos: 2, rps: 200 }));
    const account = counts.kind("KeyAccount");
    // 2,000 requests in 10 s. A lease per isolate to start and every 10 s after, a record batch per flush (1 s).
    expect(counts.calls("KeyAccount", "reserve")).toBeLessThanOrEqual(4);
    expect(account?.totalPerSecond ?? Infinity).toBeLessThan(5);
    expect(account?.totalPerSecond ?? 0).toBeGreaterThan(0.5);
    // Every request still takes and gives back its slot, the usage row riding on the release.
    expect(counts.calls("AdmissionCell", "acquire")).toBeGreaterThan(1_800);
  });

  it("sends a lone request of a limited key to its account: an exact reservation and its row at once", async () => {
    // 100 keys at one request in ten seconds each, answered within 200 ms: an isolate rarely sees a key twice within
    // a second, so almost none leases.
    const counts = await countsOf(small({ keys: 101, hotShare: 0, rps: 10, answerMs: { min: 100, max: 200 } }));
    const requests = counts.calls("AdmissionCell", "acquire");
    const reserves = counts.calls("KeyAccount", "reserve");
    expect(reserves).toBeGreaterThan(0.8 * requests);
    expect(counts.calls("KeyAccount", "lease")).toBeLessThan(0.4 * reserves);
    // Each row once: the prompt push for an exact reservation (the cell's flush does not send it again).
    const records = counts.calls("KeyAccount", "record");
    expect(records).toBeGreaterThan(0.8 * requests);
    expect(records).toBeLessThan(1.2 * requests);
  });

  it("feeds the earnings shards and the roll-up once per cell flush, not per request", async () => {
    const counts = await countsOf(small({ rps: 200, nodes: 1_000, cells: 2 }));
    // 2 cells flushing once a second for 10 s: 20 roll-up batches however many requests.
    const rollup = counts.calls("UsageRollup", "add");
    expect(rollup).toBeGreaterThanOrEqual(16);
    expect(rollup).toBeLessThanOrEqual(22);
    // Each flush sends one add per shard it has receipts for: at most 2 cells × 64 shards a second.
    const adds = counts.calls("EarningsShard", "add");
    expect(adds).toBeGreaterThan(rollup);
    expect(adds).toBeLessThanOrEqual(2 * 64 * 11);
  });
});

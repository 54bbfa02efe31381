import type { Price } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { seededRandom as mulberry32 } from "./seeded-random.js";
import { CAPACITY_RECOVERY_STEP_MS } from "./capacity.js";
import { NO_CONTROLS, type RoutingControls } from "./client-controls.js";
import {
  capacityOf,
  isProven,
  STALE_LATENCY_TAU_MS,
  UNPROVEN_SLOTS,
  type ProbeView,
  type RouteNode,
} from "./node-estimates.js";
import { newNodeState, observe, type NodeState } from "./node-state.js";
import type { Outcome, OutcomeKind } from "./outcome.js";
import { BASE_EJECTION_MS, EJECT_AFTER_CONSECUTIVE, isEjected } from "./outlier.js";
import {
  EXPLORE_BOOST,
  EXPLORE_SHARE,
  exploreShare,
  MAX_EXPLORE_SHARE,
  pickNode,
  type PickQuery,
  type PickResult,
} from "./pick.js";
import { WeightedSampler } from "./weighted-sampler.js";
import { buildTable, observeInTable, type RoutingTable } from "./routing-table.js";

// ---------------------------------------------------------------------------------------------------------------------
// Helpers

/** Returns `first` in turn, then continues with a seeded PRNG. */
function scripted(first: readonly number[], seed = 7): () => number {
  const rest = mulberry32(seed);
  let i = 0;
  return () => (i < first.length ? (first[i++] ?? 0) : rest());
}

/** A random number that forces the exploration branch on a first attempt, then ordinary draws. */
const FORCE_EXPLORE = (seed = 7): (() => number) => scripted([0], seed);
/** A random number that keeps pickNode out of the exploration branch. */
const NO_EXPLORE = (seed = 7): (() => number) => scripted([0.99], seed);

const NOW = 10_000_000;
const M = "m";

interface NodeSpec {
  capacity?: number;
  /** Models served with their prices; default: M, free. */
  models?: Record<string, Price | null>;
  /** First-token latency of every measured answer; measured nodes get `successes` answers (default 100). */
  ttftMs?: number;
  /** Tokens per second of every measured answer. */
  tps?: number;
  successes?: number;
  /** Malformed answers (double-weighted, not severe) spread among the successes (each followed by 5 successes), so
   * they never eject by themselves as long as the successes keep their share under EJECT_FAILURE_RATE (checked). */
  malformed?: number;
  probe?: ProbeView | null;
  /** Ejected at NOW by consecutive errors. */
  ejected?: boolean;
  state?: NodeState;
}

function outcome(nodeId: string, kind: OutcomeKind, at: number, extra: Partial<Outcome> = {}): Outcome {
  const ok = kind === "success";
  return {
    nodeId,
    model: M,
    kind,
    at,
    ttftMs: ok ? 100 : null,
    tokens: ok ? 100 : null,
    streamMs: ok ? 1_000 : null,
    inFlight: null,
    ...extra,
  };
}

/**
 * A node as the router sees it. Measurements are all taken at NOW (so estimates are exactly as measured when picking at
 * NOW); a node without `ttftMs` or `successes` has no record at all.
 */
function routeNode(id: string, spec: NodeSpec = {}): RouteNode {
  const capacity = spec.capacity ?? 8;
  const models = spec.models ?? { [M]: null };
  let state = spec.state ?? newNodeState(NOW);
  const feed = (o: Outcome): void => {
    state = observe(state, o, { declaredCapacity: capacity, mayEject: true });
  };
  const measured = spec.ttftMs !== undefined || spec.tps !== undefined || spec.successes !== undefined;
  const ok = (model: string): Outcome =>
    outcome(id, "success", NOW, {
      model,
      ttftMs: spec.ttftMs ?? 100,
      tokens: spec.tps ?? null,
      streamMs: spec.tps === undefined ? null : 1_000,
    });
  if (measured)
    for (let i = 0; i < (spec.successes ?? 100); i++) for (const model of Object.keys(models)) feed(ok(model));
  for (let i = 0; i < (spec.malformed ?? 0); i++) {
    feed(outcome(id, "malformed", NOW));
    for (let k = 0; k < 5; k++) feed(ok(M));
  }
  if (spec.ejected) for (let i = 0; i < EJECT_AFTER_CONSECUTIVE; i++) feed(outcome(id, "error", NOW));
  if (isEjected(state.outlier, NOW) !== (spec.ejected ?? false))
    throw new Error(`test setup: node ${id} ejection is not as specified`);
  return {
    id,
    origin: `https://${id}.example`,
    transport: "direct",
    declaredCapacity: capacity,
    othersInFlight: 0,
    contextLengths: new Map(),
    responsesApi: new Set(),
    models: new Map(Object.entries(models)),
    state,
    probe: spec.probe ?? null,
  };
}

type Loads = Readonly<Record<string, number>>;

function query(overrides: Partial<PickQuery> & { loads?: Loads; controls?: RoutingControls } = {}): PickQuery {
  const { loads, ...rest } = overrides;
  return {
    model: M,
    controls: NO_CONTROLS(overrides.model ?? M),
    now: NOW,
    random: mulberry32(1),
    load: (node) => loads?.[node.id] ?? 0,
    exclude: new Set(),
    attempt: 0,
    ...rest,
  };
}

function controls(c: Partial<RoutingControls>, model = M): RoutingControls {
  return { ...NO_CONTROLS(model), ...c };
}

function picked(result: PickResult): string {
  return result.kind === "node" ? result.node.id : `<${result.kind}>`;
}

function pick(table: RoutingTable, overrides: Parameters<typeof query>[0] = {}): string {
  return picked(pickNode(table, query(overrides)));
}

/** Picks `n` times with independent (seeded) randomness and zero load; counts the results. */
function tally(
  table: RoutingTable,
  n: number,
  overrides: Parameters<typeof query>[0] = {},
  seed = 42,
): Map<string, number> {
  const random = mulberry32(seed);
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = picked(pickNode(table, query({ random, ...overrides })));
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

const share = (counts: ReadonlyMap<string, number>, id: string, n: number): number => (counts.get(id) ?? 0) / n;

interface SimResult {
  counts: Map<string, number>;
  saturated: number;
  overCapacity: number;
}

/**
 * One request arrives per step and holds its node for `hold` steps; load is what is in flight. Estimates stay as
 * they were at `now`, so only the router's choices move the load.
 */
function simulate(
  table: RoutingTable,
  opts: { steps: number; hold: number; seed: number; now?: number; controls?: RoutingControls },
): SimResult {
  const now = opts.now ?? NOW;
  const random = mulberry32(opts.seed);
  const finishing = new Map<string, number[]>();
  const counts = new Map<string, number>();
  let saturated = 0;
  let overCapacity = 0;
  const load = (node: RouteNode): number => finishing.get(node.id)?.length ?? 0;
  for (let step = 0; step < opts.steps; step++) {
    for (const [id, ends] of finishing)
      finishing.set(
        id,
        ends.filter((end) => end > step),
      );
    const r = pickNode(table, query({ now, random, load, ...(opts.controls ? { controls: opts.controls } : {}) }));
    if (r.kind !== "node") {
      saturated++;
      continue;
    }
    if (load(r.node) >= capacityOf(r.node, M, now)) overCapacity++;
    counts.set(r.node.id, (counts.get(r.node.id) ?? 0) + 1);
    finishing.set(r.node.id, [...(finishing.get(r.node.id) ?? []), step + opts.hold]);
  }
  return { counts, saturated, overCapacity };
}

// ---------------------------------------------------------------------------------------------------------------------

describe("what pickNode reports", () => {
  it("unknown_model when no node serves the model", () => {
    const table = buildTable([routeNode("a", { ttftMs: 100 })], NOW);
    expect(pick(table, { model: "other", controls: controls({}, "other") })).toBe("<unknown_model>");
    expect(pick(buildTable([], NOW))).toBe("<unknown_model>");
  });

  it("unknown_model for model ids that are Object.prototype keys no node serves", () => {
    const table = buildTable([routeNode("a", { ttftMs: 100 })], NOW);
    for (const model of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      expect(pick(table, { model, controls: controls({}, model) }), model).toBe("<unknown_model>");
    }
  });

  it("the one node, when there is only one", () => {
    const table = buildTable([routeNode("solo", { ttftMs: 100 })], NOW);
    for (let seed = 0; seed < 20; seed++) expect(pick(table, { random: mulberry32(seed) })).toBe("solo");
  });

  it("the one node even when it has no record yet", () => {
    const table = buildTable([routeNode("new")], NOW);
    for (let seed = 0; seed < 20; seed++) expect(pick(table, { random: mulberry32(seed) })).toBe("new");
  });

  it("saturated when the only node is full, ejected, or already tried", () => {
    const table = buildTable([routeNode("solo", { ttftMs: 100, capacity: 2 })], NOW);
    expect(pick(table, { loads: { solo: 2 } })).toBe("<saturated>");
    expect(pick(table, { exclude: new Set(["solo"]), attempt: 1 })).toBe("<saturated>");
    expect(pick(buildTable([routeNode("solo", { ttftMs: 100, ejected: true })], NOW))).toBe("<saturated>");
  });

  it("saturated when every node is ejected", () => {
    const table = buildTable([routeNode("a", { ttftMs: 100, ejected: true }), routeNode("b", { ejected: true })], NOW);
    for (let seed = 0; seed < 20; seed++) expect(pick(table, { random: mulberry32(seed) })).toBe("<saturated>");
  });

  it("saturated when every node is full or tried", () => {
    const table = buildTable(
      [routeNode("a", { ttftMs: 100, capacity: 1 }), routeNode("b", { ttftMs: 100, capacity: 3 }), routeNode("c")],
      NOW,
    );
    expect(pick(table, { loads: { a: 1, b: 3, c: 8 } })).toBe("<saturated>");
    expect(pick(table, { loads: { a: 1, b: 3 }, exclude: new Set(["c"]), attempt: 1 })).toBe("<saturated>");
  });

  it("no_eligible when the client's controls rule out every node serving the model", () => {
    const a = routeNode("a", { ttftMs: 100, models: { [M]: { prompt: 500, completion: 500 } } });
    const b = routeNode("b", { ttftMs: 100, models: { [M]: { prompt: 900, completion: 100 } } });
    const other = routeNode("other", { ttftMs: 100, models: { x: null } });
    const table = buildTable([a, b, other], NOW);
    expect(pick(table, { controls: controls({ ignore: new Set(["a", "b"]) }) })).toBe("<no_eligible>");
    expect(pick(table, { controls: controls({ only: new Set(["other"]) }) })).toBe("<no_eligible>");
    expect(pick(table, { controls: controls({ maxPrice: { prompt: 400, completion: null } }) })).toBe("<no_eligible>");
  });

  it("saturated, not no_eligible, when the nodes the controls allow are busy", () => {
    const table = buildTable([routeNode("a", { ttftMs: 100, capacity: 1 }), routeNode("b", { ttftMs: 100 })], NOW);
    const c = controls({ only: new Set(["a"]) });
    expect(pick(table, { controls: c, loads: { a: 1 } })).toBe("<saturated>");
    expect(pick(table, { controls: controls({ ignore: new Set(["b"]) }), loads: { a: 1 } })).toBe("<saturated>");
  });
});

describe("capacity", () => {
  it("never picks a node at or above its capacity, and finds one whenever any has room", () => {
    const nodes = [
      routeNode("a", { ttftMs: 80, capacity: 1 }),
      routeNode("b", { ttftMs: 150, capacity: 3 }),
      routeNode("c", { ttftMs: 60, capacity: 2, malformed: 5 }),
      routeNode("d", { capacity: 4 }),
      routeNode("e", { ttftMs: 300, capacity: 16 }),
    ];
    const table = buildTable(nodes, NOW);
    const random = mulberry32(3);
    let checked = 0;
    for (let i = 0; i < 5_000; i++) {
      const loads: Record<string, number> = {};
      for (const node of nodes) loads[node.id] = Math.floor(random() * (node.declaredCapacity + 2));
      const result = pickNode(table, query({ random, loads }));
      // Unproven nodes ("d") take what they declare only once no proven node has room.
      const provenRoom = nodes.some((node) => isProven(node, M) && (loads[node.id] ?? 0) < capacityOf(node, M, NOW));
      const room = nodes.filter((node) => (loads[node.id] ?? 0) < capacityOf(node, M, NOW, !provenRoom));
      if (result.kind === "node") {
        expect(loads[result.node.id] ?? 0).toBeLessThan(capacityOf(result.node, M, NOW, !provenRoom));
        expect(loads[result.node.id] ?? 0).toBeLessThan(result.node.declaredCapacity);
        checked++;
      } else {
        expect(result.kind).toBe("saturated");
        expect(room).toEqual([]);
      }
    }
    expect(checked).toBeGreaterThan(4_000);
  });

  it("keeps within capacity when load builds up, spilling over to slower nodes", () => {
    const table = buildTable(
      [routeNode("fast", { ttftMs: 100, capacity: 4 }), routeNode("slow", { ttftMs: 1_000, capacity: 4 })],
      NOW,
    );
    const sim = simulate(table, { steps: 5_000, hold: 6, seed: 5 });
    expect(sim.overCapacity).toBe(0);
    expect(sim.saturated).toBe(0);
    expect(share(sim.counts, "slow", 5_000)).toBeGreaterThan(0.1);
  });

  it("reports saturated rather than overfill when demand exceeds every node's capacity", () => {
    const table = buildTable(
      [routeNode("a", { ttftMs: 100, capacity: 2 }), routeNode("b", { ttftMs: 100, capacity: 2 })],
      NOW,
    );
    const sim = simulate(table, { steps: 2_000, hold: 10, seed: 9 });
    expect(sim.overCapacity).toBe(0);
    expect(sim.saturated).toBeGreaterThan(1_000);
  });

  it("learns a lower capacity from a 429 and lets it recover", () => {
    const table = buildTable(
      [routeNode("a", { ttftMs: 50, capacity: 8 }), routeNode("b", { ttftMs: 500, capacity: 8 })],
      NOW,
    );
    expect(pick(table, { loads: { a: 4 } })).toBe("a");
    observeInTable(table, outcome("a", "busy", NOW, { inFlight: 2 }));
    // The 429 came with only 2 others in flight, but one surprise halves at most: a holds 4. With 4 in flight it is
    // full, so b gets the request even though it is ten times slower.
    for (let seed = 0; seed < 20; seed++) expect(pick(table, { loads: { a: 4 }, random: mulberry32(seed) })).toBe("b");
    expect(pick(table, { loads: { a: 3 } })).toBe("a");
    // One slot back per recovery step.
    expect(pick(table, { loads: { a: 4 }, now: NOW + CAPACITY_RECOVERY_STEP_MS })).toBe("a");
    expect(pick(table, { loads: { a: 5 }, now: NOW + CAPACITY_RECOVERY_STEP_MS })).toBe("b");
    const onlyA = controls({ only: new Set(["a"]) });
    expect(pick(table, { controls: onlyA, loads: { a: 7 }, now: NOW + 100 * CAPACITY_RECOVERY_STEP_MS })).toBe("a");
    expect(pick(table, { controls: onlyA, loads: { a: 8 }, now: NOW + 100 * CAPACITY_RECOVERY_STEP_MS })).toBe(
      "<saturated>",
    );
    // A second 429 right after the first halves again: 4 to 2.
    observeInTable(table, outcome("a", "busy", NOW + 1, { inFlight: 0 }));
    expect(pick(table, { controls: onlyA, loads: { a: 1 }, now: NOW + 1 })).toBe("a");
    expect(pick(table, { controls: onlyA, loads: { a: 2 }, now: NOW + 1 })).toBe("<saturated>");
  });

  it("a 429 does not take the node out of rotation", () => {
    const table = buildTable([routeNode("a", { ttftMs: 50 })], NOW);
    for (let i = 0; i < 20; i++) observeInTable(table, outcome("a", "busy", NOW + i, { inFlight: 0 }));
    expect(pick(table, { now: NOW + 20 })).toBe("a");
    expect(pick(table, { now: NOW + 20, loads: { a: 1 } })).toBe("<saturated>");
  });
});

describe("outlier ejection as the router sees it", () => {
  it("takes a node out at once after consecutive failures, and brings it back after the ejection time", () => {
    const table = buildTable([routeNode("a", { ttftMs: 50 }), routeNode("b", { ttftMs: 500 })], NOW);
    expect(pick(table)).toBe("a");
    for (let i = 0; i < EJECT_AFTER_CONSECUTIVE; i++) observeInTable(table, outcome("a", "error", NOW + i));
    const t = NOW + EJECT_AFTER_CONSECUTIVE;
    for (let seed = 0; seed < 50; seed++) expect(pick(table, { now: t, random: mulberry32(seed) })).toBe("b");
    expect(pick(table, { now: t + BASE_EJECTION_MS })).toBe("a");
  });

  it("takes a node out for its failure rate, though it never fails five times in a row", () => {
    const a = routeNode("a", { ttftMs: 50, successes: 3 });
    const table = buildTable([a, routeNode("b", { ttftMs: 500 })], NOW);
    let t = NOW;
    let rounds = 0;
    const round: OutcomeKind[] = [...Array<OutcomeKind>(7).fill("success"), "error"];
    // One failure in eight: after the first round 1 of 11 failed (under EJECT_FAILURE_RATE), after the second 2 of 19.
    // a stays the cheaper node meanwhile (trust 12/13 after one failure: 50 / (12/13)¹⁶ ≈ 180 ms against b's 500).
    while (rounds < 10 && pick(table, { now: t }) === "a") {
      for (const kind of round) observeInTable(table, outcome("a", kind, t++, { ttftMs: 50 }));
      rounds++;
    }
    expect(rounds).toBe(2);
    expect(isEjected(a.state.outlier, t)).toBe(true);
    expect(pick(table, { now: t })).toBe("b");
  });

  it("never ejects more than the cap when every node fails together, so requests still find a node", () => {
    const nodes = ["a", "b", "c"].map((id) => routeNode(id, { ttftMs: 100 }));
    const table = buildTable(nodes, NOW);
    for (const node of nodes)
      for (let i = 0; i < 3 * EJECT_AFTER_CONSECUTIVE; i++) observeInTable(table, outcome(node.id, "error", NOW + i));
    const t = NOW + 3 * EJECT_AFTER_CONSECUTIVE;
    expect(nodes.filter((n) => isEjected(n.state.outlier, t)).length).toBe(1);
    const counts = tally(table, 500, { now: t });
    expect(counts.get("<saturated>")).toBeUndefined();
    const out = nodes.find((n) => isEjected(n.state.outlier, t));
    expect(out && counts.get(out.id)).toBeUndefined();
  });

  it("may eject the only node, leaving the model saturated until it returns", () => {
    const table = buildTable([routeNode("solo", { ttftMs: 100 })], NOW);
    for (let i = 0; i < EJECT_AFTER_CONSECUTIVE; i++) observeInTable(table, outcome("solo", "error", NOW + i));
    expect(pick(table, { now: NOW + EJECT_AFTER_CONSECUTIVE })).toBe("<saturated>");
    expect(pick(table, { now: NOW + BASE_EJECTION_MS + EJECT_AFTER_CONSECUTIVE })).toBe("solo");
  });

  it("a node back from ejection takes one request at a time until it succeeds", () => {
    const r = routeNode("r", { ttftMs: 100, ejected: true });
    const back = r.state.outlier.ejectedUntil;
    const table = buildTable([r], back);
    expect(pick(table, { now: back, loads: { r: 0 } })).toBe("r");
    expect(pick(table, { now: back, loads: { r: 1 } })).toBe("<saturated>");
  });

  it("a node on probation takes one request at a time; a failure ejects it again, a success restores it", () => {
    // On probation and not re-ejected: its first failure back came while the ejection cap was reached.
    const r = routeNode("r", { ttftMs: 100, ejected: true });
    const back = r.state.outlier.ejectedUntil;
    r.state = observe(r.state, outcome("r", "error", back), { declaredCapacity: 8, mayEject: false });
    const other = routeNode("o", { ttftMs: 1_000 });
    const table = buildTable([r, other], back);
    expect(pick(table, { now: back, controls: controls({ only: new Set(["r"]) }), loads: { r: 1 } })).toBe(
      "<saturated>",
    );
    expect(pick(table, { now: back, controls: controls({ only: new Set(["r"]) }), loads: { r: 0 } })).toBe("r");

    const failing = buildTable([{ ...r }, other], back);
    observeInTable(failing, outcome("r", "error", back + 1));
    for (let seed = 0; seed < 20; seed++) expect(pick(failing, { now: back + 1, random: mulberry32(seed) })).toBe("o");

    const ok = buildTable([{ ...r }, other], back);
    observeInTable(ok, outcome("r", "success", back + 1, { ttftMs: 100 }));
    expect(pick(ok, { now: back + 1, controls: controls({ only: new Set(["r"]) }), loads: { r: 5 } })).toBe("r");
  });

  it("does not explore a measured node on probation: its record speaks for it", () => {
    const r = routeNode("r", { ttftMs: 100, ejected: true });
    const back = r.state.outlier.ejectedUntil;
    r.state = observe(r.state, outcome("r", "error", back), { declaredCapacity: 8, mayEject: false });
    const table = buildTable([routeNode("a", { ttftMs: 50 }), r], back);
    // Nothing to explore: the forced exploration draw falls through to the ordinary choice, which prefers a.
    const result = pickNode(table, query({ now: back, random: FORCE_EXPLORE() }));
    expect(result).toMatchObject({ kind: "node", explored: false });
    expect(picked(result)).toBe("a");
    // r still takes traffic by its cost, once a is full.
    expect(pick(table, { now: back, loads: { a: 8 } })).toBe("r");
    // The control: with a new node in the pool, the same draw explores, and explores only the new node.
    const withNew = buildTable([routeNode("a", { ttftMs: 50 }), r, routeNode("new")], back);
    for (let seed = 0; seed < 20; seed++) {
      const explored = pickNode(withNew, query({ now: back, random: FORCE_EXPLORE(seed) }));
      expect(explored).toMatchObject({ kind: "node", explored: true });
      expect(picked(explored)).toBe("new");
    }
  });
});

describe("latency", () => {
  it("a timeout drains the node at once, without ejecting it: one client's evidence (timeout-evidence.ts)", () => {
    const table = buildTable([routeNode("a", { ttftMs: 100 }), routeNode("b", { ttftMs: 100 })], NOW);
    observeInTable(table, outcome("b", "timeout", NOW, { ttftMs: 30_000, client: "k1" }));
    expect(tally(table, 1_000).get("a")).toBe(1_000);
    expect(isEjected(table.nodes.get("b")?.state.outlier ?? newNodeState(NOW).outlier, NOW)).toBe(false);
    expect(pick(table, { loads: { a: 8 } })).toBe("b");
    // A second client's timeout ejects it.
    observeInTable(table, outcome("b", "timeout", NOW, { ttftMs: 30_000, client: "k2" }));
    expect(pick(table, { loads: { a: 8 } })).toBe("<saturated>");
  });

  it("a stalled stream ejects the node at once; a lone error does not", () => {
    const table = buildTable(
      [routeNode("a", { ttftMs: 100 }), routeNode("b", { ttftMs: 100 }), routeNode("c", { ttftMs: 100 })],
      NOW,
    );
    observeInTable(table, outcome("b", "stalled", NOW));
    observeInTable(table, outcome("c", "error", NOW));
    const counts = tally(table, 1_000);
    expect(counts.get("b")).toBeUndefined();
    // Two healthy nodes left: power of two choices compares both, so the one without the error wins at zero load;
    // c is not ejected, and takes the traffic as soon as a is full.
    expect(isEjected(table.nodes.get("c")?.state.outlier ?? newNodeState(NOW).outlier, NOW)).toBe(false);
    for (let seed = 0; seed < 20; seed++) expect(pick(table, { loads: { a: 8 }, random: mulberry32(seed) })).toBe("c");
  });

  it("a timeout makes the node unattractive at once, even when the cap keeps it in rotation", () => {
    // x is ejected already: with three nodes the cap (one) is reached, so b's timeout cannot eject it.
    const x = routeNode("x", { ttftMs: 100, ejected: true });
    const table = buildTable(
      [routeNode("a", { ttftMs: 100, capacity: 32 }), routeNode("b", { ttftMs: 100, capacity: 32 }), x],
      NOW,
    );
    const before = simulate(table, { steps: 4_000, hold: 10, seed: 1 });
    expect(share(before.counts, "b", 4_000)).toBeGreaterThan(0.35);
    observeInTable(table, outcome("b", "timeout", NOW, { ttftMs: 30_000 }));
    expect(isEjected(table.nodes.get("b")?.state.outlier ?? x.state.outlier, NOW)).toBe(false);
    const after = simulate(table, { steps: 4_000, hold: 10, seed: 1 });
    expect(share(after.counts, "b", 4_000)).toBeLessThan(0.02);
    const rebuilt = simulate(buildTable([...table.nodes.values()], NOW), { steps: 4_000, hold: 10, seed: 1 });
    expect(share(rebuilt.counts, "b", 4_000)).toBeLessThan(0.01);
  });

  it("a slow measurement fades toward the probe prior, so the node gets traffic again", () => {
    const probe: ProbeView = { reachable: true, rttMs: 20, at: NOW };
    const nodes = [
      routeNode("fast", { ttftMs: 100, capacity: 32, probe }),
      routeNode("slow", { ttftMs: 3_000, capacity: 32, probe }),
    ];
    const now = simulate(buildTable(nodes, NOW), { steps: 4_000, hold: 10, seed: 2 });
    expect(share(now.counts, "slow", 4_000)).toBeLessThan(0.01);
    // Slowly: a minute on, the slow node is still shunned.
    const soon = NOW + 60_000;
    const notYet = simulate(buildTable(nodes, soon), { steps: 4_000, hold: 10, seed: 2, now: soon });
    expect(share(notYet.counts, "slow", 4_000)).toBeLessThan(0.01);
    // Many time constants on, both estimates are back at the same probe prior, and the two nodes share the traffic.
    const later = NOW + 12 * STALE_LATENCY_TAU_MS;
    const then = simulate(buildTable(nodes, later), { steps: 4_000, hold: 10, seed: 2, now: later });
    expect(share(then.counts, "slow", 4_000)).toBeGreaterThan(0.35);
    expect(share(then.counts, "slow", 4_000)).toBeLessThan(0.65);
  });
});

describe("weighted power of two choices", () => {
  it("spreads requests evenly over identical idle nodes", () => {
    const ids = ["a", "b", "c", "d"];
    const table = buildTable(
      ids.map((id) => routeNode(id, { ttftMs: 100 })),
      NOW,
    );
    const n = 40_000;
    const counts = tally(table, n);
    for (const id of ids) expect(share(counts, id, n), id).toBeGreaterThan(0.23);
    for (const id of ids) expect(share(counts, id, n), id).toBeLessThan(0.27);
  });

  it(
    "draws candidates by weight (free slots × trust¹⁶ / latency⁴): with equal costs, the first candidate " +
      "drawn wins",
    () => {
      // Idle, both cost their latency; the big node is three times as likely to be drawn first.
      const table = buildTable(
        [routeNode("small", { ttftMs: 100, capacity: 2 }), routeNode("big", { ttftMs: 100, capacity: 6 })],
        NOW,
      );
      const n = 30_000;
      const counts = tally(table, n, { random: NO_EXPLORE() });
      expect(share(counts, "big", n)).toBeGreaterThan(0.72);
      expect(share(counts, "big", n)).toBeLessThan(0.78);
    },
  );

  it("takes the cheaper of two idle candidates", () => {
    const table = buildTable([routeNode("fast", { ttftMs: 100 }), routeNode("slow", { ttftMs: 150 })], NOW);
    const counts = tally(table, 5_000);
    expect(share(counts, "fast", 5_000)).toBeGreaterThan(0.97);
  });

  it("prefers the less loaded of equal nodes", () => {
    const table = buildTable([routeNode("a", { ttftMs: 100 }), routeNode("b", { ttftMs: 100 })], NOW);
    const counts = tally(table, 5_000, { loads: { a: 3, b: 1 } });
    expect(share(counts, "b", 5_000)).toBeGreaterThan(0.97);
  });

  it("favours fast nodes under load, without starving the slow one", () => {
    const table = buildTable([routeNode("fast", { ttftMs: 100 }), routeNode("slow", { ttftMs: 300 })], NOW);
    const sim = simulate(table, { steps: 20_000, hold: 10, seed: 11 });
    expect(sim.overCapacity).toBe(0);
    expect(sim.saturated).toBe(0);
    expect(share(sim.counts, "fast", 20_000)).toBeGreaterThan(0.65);
    expect(share(sim.counts, "slow", 20_000)).toBeGreaterThan(0.05);
  });

  it("favours reliable nodes under load", () => {
    // flaky fails 10 of 160 answers (each malformed answer counting double against its trust): too few to be ejected
    // at EJECT_FAILURE_RATE, enough to cost it a factor (152/172)^-16 ≈ 7 by trust.
    const table = buildTable(
      [
        routeNode("flaky", { ttftMs: 100, successes: 100, malformed: 10 }),
        routeNode("reliable", { ttftMs: 100, successes: 200 }),
      ],
      NOW,
    );
    const sim = simulate(table, { steps: 20_000, hold: 10, seed: 12 });
    expect(sim.overCapacity).toBe(0);
    expect(share(sim.counts, "reliable", 20_000)).toBeGreaterThan(0.7);
    expect(share(sim.counts, "flaky", 20_000)).toBeGreaterThan(0.02);
  });

  it("favours high-capacity nodes under load", () => {
    const table = buildTable(
      [routeNode("small", { ttftMs: 100, capacity: 4 }), routeNode("big", { ttftMs: 100, capacity: 16 })],
      NOW,
    );
    const sim = simulate(table, { steps: 20_000, hold: 10, seed: 13 });
    expect(sim.overCapacity).toBe(0);
    expect(sim.saturated).toBe(0);
    expect(share(sim.counts, "big", 20_000)).toBeGreaterThan(0.7);
    expect(share(sim.counts, "small", 20_000)).toBeGreaterThan(0.03);
  });

  it("finds the one node with room among many full ones", () => {
    const nodes = Array.from({ length: 50 }, (_, i) => routeNode(`n${i}`, { ttftMs: 100 + i, capacity: 2 }));
    const table = buildTable(nodes, NOW);
    const loads = Object.fromEntries(nodes.map((n) => [n.id, n.id === "n37" ? 0 : 2]));
    for (let seed = 0; seed < 20; seed++) expect(pick(table, { loads, random: mulberry32(seed) })).toBe("n37");
  });

  it("routes a fleet of new nodes (cold start)", () => {
    const table = buildTable(
      ["a", "b", "c"].map((id) => routeNode(id)),
      NOW,
    );
    const counts = tally(table, 3_000);
    expect(counts.get("<saturated>")).toBeUndefined();
    for (const id of ["a", "b", "c"]) expect(share(counts, id, 3_000)).toBeGreaterThan(0.2);
  });
});

describe("exploration", () => {
  const known = (): RouteNode => routeNode("known", { ttftMs: 100 });

  /** A new node its probe says is far away: only exploration sends it anything while the known node has room. */
  const distant = (id: string, capacity = 8): RouteNode =>
    routeNode(id, { capacity, probe: { reachable: true, rttMs: 300, at: NOW } });

  it("sends a first attempt to a node still being explored when the random draw says so", () => {
    const table = buildTable([known(), distant("new")], NOW);
    const result = pickNode(table, query({ random: FORCE_EXPLORE() }));
    expect(picked(result)).toBe("new");
    expect(result).toMatchObject({ explored: true });
    const normal = pickNode(table, query({ random: NO_EXPLORE() }));
    expect(picked(normal)).toBe("known");
    expect(normal).toMatchObject({ explored: false });
  });

  it(
    "gives explored nodes the share exploreShare names (more while much of the pool is new), and almost nothing " +
      "otherwise",
    () => {
      const table = buildTable([known(), routeNode("known2", { ttftMs: 100 }), distant("new1"), distant("new2")], NOW);
      const expected = exploreShare(
        table.pools.get(M) ?? {
          model: M,
          nodes: [],
          sampler: new WeightedSampler([]),
          explore: [],
          unproven: [],
          priceReference: 0,
        },
      );
      // Half the pool new: 0.5% + 0.2 × 1/2.
      expect(expected).toBeCloseTo(EXPLORE_SHARE + EXPLORE_BOOST / 2, 9);
      const n = 100_000;
      const random = mulberry32(99);
      let explored = 0;
      let toNew = 0;
      for (let i = 0; i < n; i++) {
        const r = pickNode(table, query({ random }));
        if (r.kind !== "node") throw new Error(r.kind);
        if (r.explored) {
          explored++;
          expect(r.node.id.startsWith("new")).toBe(true);
        }
        if (r.node.id.startsWith("new")) toNew++;
      }
      expect(explored / n).toBeGreaterThan(expected * 0.95);
      expect(explored / n).toBeLessThan(expected * 1.05);
      expect(toNew - explored).toBeLessThan(n * 0.001);
    },
  );

  it(`keeps the exploration share near ${EXPLORE_SHARE * 100}% in a settled pool, and caps it`, () => {
    const settled = Array.from({ length: 199 }, (_, i) => routeNode(`k${i}`, { ttftMs: 100 }));
    const table = buildTable([...settled, distant("new")], NOW);
    const m = table.pools.get(M);
    if (!m) throw new Error("no pool");
    expect(exploreShare(m)).toBeCloseTo(EXPLORE_SHARE + EXPLORE_BOOST / 200, 9);
    const allNew = buildTable([distant("a"), distant("b")], NOW).pools.get(M);
    if (!allNew) throw new Error("no pool");
    expect(exploreShare(allNew)).toBe(MAX_EXPLORE_SHARE);
    expect(exploreShare({ ...m, explore: [] })).toBe(0);
  });

  it("does not explore on a failover attempt", () => {
    const table = buildTable([distant("new"), known(), routeNode("other", { ttftMs: 100 })], NOW);
    const counts = tally(table, 2_000, { attempt: 1, exclude: new Set(["other"]) });
    expect(share(counts, "known", 2_000)).toBeGreaterThan(0.99);
    const forced = pickNode(table, query({ attempt: 1, random: FORCE_EXPLORE(), exclude: new Set(["other"]) }));
    expect(forced).toMatchObject({ kind: "node", explored: false });
    expect(picked(forced)).toBe("known");
  });

  it("skips an explored node that is full or already tried", () => {
    const table = buildTable([known(), routeNode("new", { capacity: 1 })], NOW);
    expect(pick(table, { random: FORCE_EXPLORE() })).toBe("new");
    const full = pickNode(table, query({ random: FORCE_EXPLORE(), loads: { new: 1 } }));
    expect(picked(full)).toBe("known");
    expect(full).toMatchObject({ explored: false });
    expect(pick(table, { random: FORCE_EXPLORE(), exclude: new Set(["new"]) })).toBe("known");
  });

  it("holds a new node to exploration while a proven node has room, however cheap its prior", () => {
    const table = buildTable([known(), routeNode("new", { capacity: 64 })], NOW);
    for (let seed = 0; seed < 20; seed++) expect(pick(table, { random: NO_EXPLORE(seed) })).toBe("known");
    // With 7 of its 8 slots busy the known node costs 187.5 ms, more than the new one's prior: still the known node.
    for (let seed = 0; seed < 20; seed++)
      expect(pick(table, { random: NO_EXPLORE(seed), loads: { known: 7 } })).toBe("known");
    // Explored, the new node takes UNPROVEN_SLOTS at a time while the known node has room.
    expect(pick(table, { random: FORCE_EXPLORE(), loads: { known: 7, new: UNPROVEN_SLOTS - 1 } })).toBe("new");
    expect(pick(table, { random: FORCE_EXPLORE(), loads: { known: 7, new: UNPROVEN_SLOTS } })).toBe("known");
  });

  it("lets new nodes take what they declare once no proven node has room (full, ejected, tried, or none)", () => {
    const table = buildTable([known(), routeNode("new", { capacity: 64 })], NOW);
    expect(pickNode(table, query({ random: NO_EXPLORE(), loads: { known: 8 } }))).toMatchObject({
      kind: "node",
      explored: false,
      node: { id: "new" },
    });
    expect(pick(table, { random: NO_EXPLORE(), loads: { known: 8, new: 63 } })).toBe("new");
    expect(pick(table, { loads: { known: 8, new: 64 } })).toBe("<saturated>");
    expect(pick(table, { random: NO_EXPLORE(), loads: { new: 40 }, exclude: new Set(["known"]) })).toBe("new");
    const ejected = buildTable([routeNode("known", { ejected: true }), routeNode("new", { capacity: 64 })], NOW);
    expect(pick(ejected, { random: NO_EXPLORE(), loads: { new: 40 } })).toBe("new");
  });

  it("serves a burst on a mesh of new nodes up to what they declare, spread over all of them", () => {
    // Three fresh nodes declaring 64 each, 96 requests in flight at once (no request ends within the run).
    const table = buildTable(
      ["a", "b", "c"].map((id) => routeNode(id, { capacity: 64 })),
      NOW,
    );
    const run = simulate(table, { steps: 96, hold: 1_000, seed: 5 });
    expect(run.saturated).toBe(0);
    for (const id of ["a", "b", "c"]) expect(run.counts.get(id) ?? 0).toBeGreaterThan(16);
    expect(simulate(table, { steps: 200, hold: 1_000, seed: 5 }).saturated).toBe(200 - 3 * 64);
  });

  it(
    "bounds what any number of new identities take from a proven node with room: the exploration share, split " +
      "among them",
    () => {
      const fresh = Array.from({ length: 100 }, (_, i) => routeNode(`new${i}`, { capacity: 64 }));
      // The proven node is slower than the new ones' prior, so their prior and full trust would otherwise win.
      const table = buildTable([routeNode("known", { ttftMs: 600, capacity: 64 }), ...fresh], NOW);
      const n = 20_000;
      const counts = tally(table, n);
      const toNew = n - (counts.get("known") ?? 0);
      expect(toNew / n).toBeLessThan(MAX_EXPLORE_SHARE * 1.05);
      expect(toNew / n).toBeGreaterThan(MAX_EXPLORE_SHARE * 0.9);
      // Split: no one identity takes more than a few times its even part of the share.
      for (const node of fresh)
        expect(counts.get(node.id) ?? 0).toBeLessThan((n * MAX_EXPLORE_SHARE * 3) / fresh.length);
    },
  );

  it("picks normally when there is nothing to explore", () => {
    const table = buildTable([known()], NOW);
    expect(pickNode(table, query({ random: FORCE_EXPLORE() }))).toMatchObject({ kind: "node", explored: false });
  });

  it("does not explore against the client's sort or only", () => {
    const table = buildTable([known(), distant("new")], NOW);
    expect(pick(table, { random: FORCE_EXPLORE(), controls: controls({ sort: "latency" }) })).toBe("known");
    expect(pick(table, { random: FORCE_EXPLORE(), controls: controls({ only: new Set(["known"]) }) })).toBe("known");
  });

  it("explores again a new node whose only record is a malformed answer an hour ago", () => {
    const late = routeNode("late", {
      state: observe(newNodeState(0), outcome("late", "malformed", NOW - 3_600_000), {
        declaredCapacity: 8,
        mayEject: true,
      }),
    });
    const fresh = routeNode("fresh");
    // The control: a node without a record is explored.
    expect(pick(buildTable([known(), fresh], NOW), { random: FORCE_EXPLORE() })).toBe("fresh");
    const result = pickNode(buildTable([known(), late], NOW), query({ random: FORCE_EXPLORE() }));
    expect(picked(result)).toBe("late");
  });
});

describe("failover", () => {
  it("never picks a node already tried for this request", () => {
    const table = buildTable(
      ["a", "b", "c"].map((id, i) => routeNode(id, { ttftMs: 100 * 2 ** i })),
      NOW,
    );
    expect(pick(table)).toBe("a");
    const second = tally(table, 2_000, { attempt: 1, exclude: new Set(["a"]) });
    expect(second.get("a")).toBeUndefined();
    expect(share(second, "b", 2_000)).toBeGreaterThan(0.5);
    expect((second.get("b") ?? 0) + (second.get("c") ?? 0)).toBe(2_000);
    expect(tally(table, 2_000, { attempt: 2, exclude: new Set(["a", "b"]) }).get("c")).toBe(2_000);
    expect(tally(table, 2_000, { attempt: 1, exclude: new Set(["a", "c"]) }).get("b")).toBe(2_000);
    expect(pick(table, { attempt: 3, exclude: new Set(["a", "b", "c"]) })).toBe("<saturated>");
  });
});

describe("client controls", () => {
  const price = (prompt: number, completion: number): Price => ({ prompt, completion });
  // best: fastest; mid; cheap: slowest but cheapest priced; free: unpriced.
  const fleet = (): RouteNode[] => [
    routeNode("best", { ttftMs: 50, tps: 20, models: { [M]: price(300, 600) } }),
    routeNode("mid", { ttftMs: 150, tps: 80, models: { [M]: price(200, 400) } }),
    routeNode("cheap", { ttftMs: 400, tps: 40, models: { [M]: price(10, 20) } }),
    routeNode("free", { ttftMs: 800, tps: 10, models: { [M]: null } }),
  ];

  describe("order", () => {
    it("tries the listed nodes first, in order, even when others are better", () => {
      const table = buildTable(fleet(), NOW);
      const c = controls({ order: ["cheap", "mid"] });
      for (let seed = 0; seed < 20; seed++)
        expect(pick(table, { controls: c, random: mulberry32(seed) })).toBe("cheap");
      expect(pick(table, { controls: c, loads: { cheap: 8 } })).toBe("mid");
    });

    it("moves down the list on failover", () => {
      const table = buildTable(fleet(), NOW);
      const c = controls({ order: ["cheap", "mid"] });
      expect(pick(table, { controls: c, attempt: 1, exclude: new Set(["cheap"]) })).toBe("mid");
    });

    it("falls back to the other nodes once the list is used up", () => {
      const table = buildTable(fleet(), NOW);
      const c = controls({ order: ["cheap", "mid"] });
      expect(pick(table, { controls: c, attempt: 2, exclude: new Set(["cheap", "mid"]) })).toBe("best");
      expect(pick(table, { controls: c, loads: { cheap: 8, mid: 8 } })).toBe("best");
    });

    it("skips listed nodes that are unknown, ejected, or do not serve the model", () => {
      const nodes = [
        ...fleet(),
        routeNode("out", { ttftMs: 10, ejected: true }),
        routeNode("elsewhere", { ttftMs: 10, models: { x: null } }),
      ];
      const table = buildTable(nodes, NOW);
      const c = controls({ order: ["ghost", "out", "elsewhere", "free"] });
      expect(pick(table, { controls: c })).toBe("free");
    });

    it("with allow_fallbacks false, never goes past the list", () => {
      const table = buildTable(fleet(), NOW);
      const c = controls({ order: ["cheap", "mid"], allowFallbacks: false });
      expect(pick(table, { controls: c })).toBe("cheap");
      expect(pick(table, { controls: c, attempt: 1, exclude: new Set(["cheap"]) })).toBe("mid");
      expect(pick(table, { controls: c, attempt: 2, exclude: new Set(["cheap", "mid"]) })).toBe("<saturated>");
      for (let seed = 0; seed < 20; seed++)
        expect(pick(table, { controls: c, loads: { cheap: 8, mid: 8 }, random: mulberry32(seed) })).toBe("<saturated>");
    });

    it("skips a listed node above max_price", () => {
      const table = buildTable(fleet(), NOW);
      const c = controls({ order: ["best", "cheap"], maxPrice: { prompt: 100, completion: null } });
      expect(pick(table, { controls: c })).toBe("cheap");
    });
  });

  describe("allow_fallbacks without order", () => {
    it("makes the first choice the only one", () => {
      const table = buildTable(fleet(), NOW);
      const c = controls({ allowFallbacks: false });
      expect(pick(table, { controls: c })).toBe("best");
      const second = pickNode(table, query({ controls: c, attempt: 1, exclude: new Set(["best"]) }));
      expect(second.kind).not.toBe("node");
    });
  });

  describe("only", () => {
    it("never picks a node outside the set, however much better", () => {
      const table = buildTable(fleet(), NOW);
      const c = controls({ only: new Set(["cheap", "free"]) });
      const counts = tally(table, 1_000, { controls: c });
      expect([...counts.keys()].sort()).toEqual(["cheap"]);
      expect(pick(table, { controls: c, loads: { cheap: 8 } })).toBe("free");
      expect(pick(table, { controls: c, loads: { cheap: 8, free: 8 } })).toBe("<saturated>");
    });

    it("ignores ids it does not know", () => {
      const table = buildTable(fleet(), NOW);
      expect(pick(table, { controls: controls({ only: new Set(["ghost", "mid"]) }) })).toBe("mid");
    });

    it("takes the cheapest among its nodes, counting load", () => {
      const table = buildTable(fleet(), NOW);
      const c = controls({ only: new Set(["best", "mid"]) });
      expect(pick(table, { controls: c })).toBe("best");
      expect(pick(table, { controls: c, loads: { best: 8 } })).toBe("mid");
      const twins = buildTable(
        [routeNode("x", { ttftMs: 100 }), routeNode("y", { ttftMs: 100 }), routeNode("z", { ttftMs: 10 })],
        NOW,
      );
      const xy = controls({ only: new Set(["x", "y"]) });
      expect(pick(twins, { controls: xy, loads: { x: 3, y: 1 } })).toBe("y");
      expect(pick(twins, { controls: xy, loads: { x: 1, y: 3 } })).toBe("x");
    });
  });

  describe("ignore", () => {
    it("never picks an ignored node", () => {
      const table = buildTable(fleet(), NOW);
      const c = controls({ ignore: new Set(["best", "mid"]) });
      const counts = tally(table, 5_000, { controls: c });
      expect(counts.get("best")).toBeUndefined();
      expect(counts.get("mid")).toBeUndefined();
      expect(counts.get("<saturated>")).toBeUndefined();
      expect(pick(table, { controls: c, random: FORCE_EXPLORE() })).not.toMatch(/best|mid/);
    });
  });

  describe("sort", () => {
    it("latency: the lowest expected first token among nodes with room", () => {
      const table = buildTable(fleet(), NOW);
      const c = controls({ sort: "latency" });
      for (let seed = 0; seed < 10; seed++) expect(pick(table, { controls: c, random: mulberry32(seed) })).toBe("best");
      expect(pick(table, { controls: c, loads: { best: 7 } })).toBe("best");
      expect(pick(table, { controls: c, loads: { best: 8 } })).toBe("mid");
      expect(pick(table, { controls: c, attempt: 1, exclude: new Set(["best"]) })).toBe("mid");
    });

    it("latency: breaks a tie by load", () => {
      const table = buildTable([routeNode("x", { ttftMs: 100 }), routeNode("y", { ttftMs: 100 })], NOW);
      const c = controls({ sort: "latency" });
      expect(pick(table, { controls: c, loads: { x: 3, y: 1 } })).toBe("y");
      expect(pick(table, { controls: c, loads: { x: 1, y: 3 } })).toBe("x");
    });

    it("throughput: the fastest streaming node, measured ones before unmeasured", () => {
      const table = buildTable([...fleet(), routeNode("unmeasured", { ttftMs: 10 })], NOW);
      const c = controls({ sort: "throughput" });
      expect(pick(table, { controls: c })).toBe("mid");
      expect(pick(table, { controls: c, loads: { mid: 8 } })).toBe("cheap");
      expect(pick(table, { controls: controls({ sort: "throughput", only: new Set(["unmeasured", "free"]) }) })).toBe(
        "free",
      );
    });

    it("price: the cheapest, an unpriced (free) node first", () => {
      const table = buildTable(fleet(), NOW);
      const c = controls({ sort: "price" });
      expect(pick(table, { controls: c })).toBe("free");
      expect(pick(table, { controls: c, loads: { free: 8 } })).toBe("cheap");
      expect(pick(table, { controls: controls({ sort: "price", ignore: new Set(["free", "cheap"]) }) })).toBe("mid");
    });

    it("applies within only and after order", () => {
      const table = buildTable(fleet(), NOW);
      expect(pick(table, { controls: controls({ sort: "price", only: new Set(["best", "mid"]) }) })).toBe("mid");
      expect(pick(table, { controls: controls({ sort: "latency", order: ["free"] }) })).toBe("free");
      expect(pick(table, { controls: controls({ sort: "latency", order: ["free"] }), loads: { free: 8 } })).toBe(
        "best",
      );
    });

    it("reports saturated or no_eligible like the default choice", () => {
      const table = buildTable(fleet(), NOW);
      const loads = { best: 8, mid: 8, cheap: 8, free: 8 };
      expect(pick(table, { controls: controls({ sort: "price" }), loads })).toBe("<saturated>");
      expect(
        pick(table, {
          controls: controls({ sort: "price", maxPrice: { prompt: 1, completion: 1 }, ignore: new Set(["free"]) }),
        }),
      ).toBe("<no_eligible>");
    });
  });

  describe("max_price", () => {
    it("rules out nodes above the prompt ceiling; unpriced nodes pass", () => {
      const table = buildTable(fleet(), NOW);
      const c = controls({ maxPrice: { prompt: 200, completion: null } });
      const counts = tally(table, 2_000, { controls: c });
      expect(counts.get("best")).toBeUndefined();
      // best, ruled out, holds most of the sampling weight, so weighted draws are often wasted on it: with a price
      // ceiling the cheapest allowed node (mid) is then found exactly; when two allowed nodes are drawn first, the
      // cheaper of those two wins (price-aware weights make that likelier than before).
      expect(share(counts, "mid", 2_000)).toBeGreaterThan(0.9);
      expect(pick(table, { controls: c, loads: { mid: 8, cheap: 8 } })).toBe("free");
    });

    it("rules out nodes above the completion ceiling", () => {
      const table = buildTable(fleet(), NOW);
      const c = controls({ maxPrice: { prompt: null, completion: 20 } });
      const counts = tally(table, 2_000, { controls: c });
      for (const id of counts.keys()) expect(["cheap", "free"]).toContain(id);
    });

    it("takes a price equal to the ceiling", () => {
      const table = buildTable(fleet(), NOW);
      const c = controls({ maxPrice: { prompt: 10, completion: 20 }, ignore: new Set(["free"]) });
      expect(pick(table, { controls: c })).toBe("cheap");
      expect(
        pick(table, { controls: controls({ maxPrice: { prompt: 9, completion: 20 }, ignore: new Set(["free"]) }) }),
      ).toBe("<no_eligible>");
    });

    it("passes a node that serves the model free of charge", () => {
      const table = buildTable(
        [routeNode("free", { ttftMs: 100 }), routeNode("zero", { ttftMs: 100, models: { [M]: price(0, 0) } })],
        NOW,
      );
      const c = controls({ maxPrice: { prompt: 0, completion: 0 } });
      const counts = tally(table, 1_000, { controls: c });
      expect(counts.get("<no_eligible>")).toBeUndefined();
      expect((counts.get("free") ?? 0) + (counts.get("zero") ?? 0)).toBe(1_000);
    });
  });
});

describe("model ids that are Object.prototype keys", () => {
  it("route on their own measurements", () => {
    const odd: Record<string, Price | null> = Object.fromEntries([
      ["__proto__", null],
      ["constructor", null],
    ]);
    expect(Object.keys(odd)).toEqual(["__proto__", "constructor"]);
    const fast = routeNode("fast", { ttftMs: 50, models: odd });
    const slow = routeNode("slow", { ttftMs: 500, models: odd });
    const table = buildTable([fast, slow], NOW);
    for (const model of ["__proto__", "constructor"]) {
      expect(pick(table, { model, controls: controls({}, model) }), model).toBe("fast");
      expect(pick(table, { model, controls: controls({ sort: "latency" }, model) }), model).toBe("fast");
      expect(pick(table, { model, controls: controls({}, model), loads: { fast: 8 } }), model).toBe("slow");
    }
    expect(pick(table, { model: "toString", controls: controls({}, "toString") })).toBe("<unknown_model>");
  });
});

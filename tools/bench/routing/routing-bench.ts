// Routing decision time: how long pickNode takes to choose a node for one attempt, on warmed-up tables of 100, 1,000
// and 10,000 live nodes, against a baseline measured in the same run (a uniform random draw with the same capacity
// check: the least any router does). Also the time to build the table, which happens once per snapshot refresh.
import { NO_CONTROLS, pickNode, type RouteNode } from "@meshgate/worker/routing";
import { summarize, type Summary } from "../stats.js";
import { benchMesh, BENCH_MODEL, seededRandom } from "./routing-mesh.js";

export interface RoutingBenchOptions {
  sizes: number[];
  decisions: number;
}

export interface RoutingSizeResult {
  nodes: number;
  /** Microseconds per decision. */
  meshgateUs: Summary;
  baselineUs: Summary;
  buildMs: number;
}

/** The decision-time target of the routing issue, at 10,000 live nodes. */
export const DECISION_P99_TARGET_US = 50;

const NO_EXCLUSIONS: ReadonlySet<string> = new Set();

function timeDecisions(count: number, decide: () => RouteNode | null): number[] {
  const samples: number[] = new Array<number>(count);
  let picked = 0;
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    if (decide()) picked++;
    samples[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  if (picked === 0) throw new Error("no decision picked a node: the benchmark mesh is broken");
  return samples;
}

export function runRoutingBench(opts: RoutingBenchOptions): RoutingSizeResult[] {
  const now = Date.now();
  return opts.sizes.map((size) => {
    const { table, loads, buildMs } = benchMesh(size, size, now);
    const random = seededRandom(7);
    const load = (node: RouteNode) => loads.get(node.id) ?? 0;
    const controls = NO_CONTROLS(BENCH_MODEL);
    const pool = table.pools.get(BENCH_MODEL)?.nodes ?? [];
    const meshgate = () => {
      const r = pickNode(table, {
        model: BENCH_MODEL,
        controls,
        now,
        random,
        load,
        exclude: NO_EXCLUSIONS,
        attempt: 0,
      });
      return r.kind === "node" ? r.node : null;
    };
    const uniform = () => {
      for (let i = 0; i < 8; i++) {
        const node = pool[Math.floor(random() * pool.length)];
        if (node && load(node) < node.declaredCapacity) return node;
      }
      return null;
    };
    // Warm both paths up (JIT), then measure them interleaved in rounds so machine noise hits both alike.
    timeDecisions(5_000, meshgate);
    timeDecisions(5_000, uniform);
    const ours: number[] = [];
    const base: number[] = [];
    const rounds = 5;
    for (let r = 0; r < rounds; r++) {
      ours.push(...timeDecisions(Math.ceil(opts.decisions / rounds), meshgate));
      base.push(...timeDecisions(Math.ceil(opts.decisions / rounds), uniform));
    }
    return { nodes: size, meshgateUs: summarize(ours), baselineUs: summarize(base), buildMs };
  });
}

export function formatRoutingBench(results: readonly RoutingSizeResult[], command: string): string {
  const lines = [
    "Routing decision time (one pickNode call, warmed-up table; baseline: uniform random draw with a capacity check)",
    "live nodes   Meshgate p50 µs   p99 µs   baseline p50 µs   p99 µs   table build ms",
  ];
  for (const r of results) {
    lines.push(
      [
        String(r.nodes).padStart(10),
        r.meshgateUs.p50.toFixed(2).padStart(17),
        r.meshgateUs.p99.toFixed(2).padStart(8),
        r.baselineUs.p50.toFixed(2).padStart(17),
        r.baselineUs.p99.toFixed(2).padStart(8),
        r.buildMs.toFixed(1).padStart(16),
      ].join(" "),
    );
  }
  const largest = results.find((r) => r.nodes === 10_000);
  if (largest) {
    const pass = largest.meshgateUs.p99 < DECISION_P99_TARGET_US;
    lines.push(
      `target: p99 < ${DECISION_P99_TARGET_US} µs at 10,000 nodes: ${pass ? "met" : "MISSED"} (${largest.meshgateUs.p99.toFixed(2)} µs)`,
    );
  }
  lines.push(`reproduce: ${command}`);
  return `${lines.join("\n")}\n`;
}

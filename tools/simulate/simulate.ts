// One whole comparison: builds the mesh and workload from the seed, runs the oracle, then each policy against the very
// same mesh and workload, and summarises each run against the oracle's.
import { cellsPolicy } from "./cells-policy.js";
import { runPolicy, type RunSpec } from "./engine.js";
import { lowestLatencyPolicy } from "./lowest-latency-policy.js";
import { makeMesh } from "./mesh.js";
import { meshgatePolicy } from "./meshgate-policy.js";
import { randomPolicy, roundRobinPolicy } from "./naive-policies.js";
import { oraclePolicy } from "./oracle-policy.js";
import type { PolicyFactory } from "./policy.js";
import { summarize, type PolicyMetrics } from "./summary.js";
import { makeWorkload, rateForLoad } from "./workload.js";

export const POLICIES: Readonly<Record<string, PolicyFactory>> = {
  meshgate: cellsPolicy,
  "meshgate-shared": meshgatePolicy,
  random: randomPolicy,
  "round-robin": roundRobinPolicy,
  "lowest-latency": lowestLatencyPolicy,
};

export interface SimulateOptions {
  seed: number;
  nodes: number;
  seconds: number;
  /** Share of the honest nodes' slots kept busy, when `rate` is null. */
  load: number;
  /** Requests per second; null: from `load`. */
  rate: number | null;
  /** Share of the run before measurement starts. */
  warmup: number;
  policies: readonly string[];
  /** Gateway isolates (1: one gateway that sees all its own requests). */
  isolates: number;
  /** Admission cells; null: one per CELL_RATE requests/s of the workload. */
  cells: number | null;
  snapshotTtlMs: number;
  releaseDelayMs: number;
  cellRttMs: number;
}

/**
 * Requests per second one cell is sized for: each Durable Object stays well under Cloudflare's ~1,000 requests/s
 * per object, with room for releases (one per acquire) and bursts.
 */
export const CELL_RATE = 400;

export function defaultCells(ratePerSecond: number): number {
  return Math.max(1, Math.ceil(ratePerSecond / CELL_RATE));
}

export interface SimulationReport {
  options: SimulateOptions;
  ratePerSecond: number;
  /** Admission cells the run used (the option, or its default for the rate). */
  cells: number;
  meshNodes: number;
  joiners: number;
  requests: number;
  metrics: PolicyMetrics[];
}

export function simulate(o: SimulateOptions, progress: (line: string) => void = () => {}): SimulationReport {
  const durationMs = o.seconds * 1000;
  const mesh = makeMesh({ seed: o.seed, nodes: o.nodes, durationMs });
  const ratePerSecond = o.rate ?? rateForLoad(mesh, o.load);
  const workload = makeWorkload(o.seed, ratePerSecond, durationMs);
  const cells = o.cells ?? defaultCells(ratePerSecond);
  const spec: RunSpec = {
    seed: o.seed,
    mesh,
    workload,
    warmAt: o.warmup * durationMs,
    endAt: durationMs,
    deployment: {
      isolates: o.isolates,
      cells,
      snapshotTtlMs: o.snapshotTtlMs,
      releaseDelayMs: o.releaseDelayMs,
      cellRttMs: o.cellRttMs,
    },
  };
  progress(
    `${mesh.length} nodes (${mesh.length - o.nodes} join during the run), ${workload.arrivalAt.length} requests at ${ratePerSecond.toFixed(0)}/s`,
  );
  const run = (
    name: string,
    factory: PolicyFactory,
    oracleLatency: Float64Array | null,
  ): { metrics: PolicyMetrics; latency: Float64Array } => {
    const started = performance.now();
    const { policy, recorder } = runPolicy(spec, factory);
    const wall = (performance.now() - started) / 1000;
    progress(`${name}: ${wall.toFixed(1)} s`);
    return {
      metrics: summarize(name, recorder, oracleLatency ?? recorder.latency, { ...policy.counters }, wall),
      latency: recorder.latency,
    };
  };
  const oracle = run("oracle", oraclePolicy, null);
  const metrics = [oracle.metrics];
  for (const name of o.policies) {
    const factory = POLICIES[name];
    if (!factory) throw new Error(`unknown policy ${name}; known: ${Object.keys(POLICIES).join(", ")}`);
    metrics.push(run(name, factory, oracle.latency).metrics);
  }
  return {
    options: o,
    ratePerSecond,
    cells,
    meshNodes: o.nodes,
    joiners: mesh.length - o.nodes,
    requests: workload.arrivalAt.length,
    metrics,
  };
}

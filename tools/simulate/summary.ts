// The per-policy numbers the report prints, from a run's records. Pure arithmetic, unit-tested.
import type { BehaviourCounts, FailureCounts, OutcomeCounts, Recorder } from "./recorder.js";

export interface PolicyMetrics {
  policy: string;
  requests: number;
  /** Requests answered in full, after failover. */
  successRate: number;
  latencyMs: { p50: number; p99: number };
  /**
   * pXX(policy) / pXX(oracle) − 1 (a failed request counts as an infinite latency, so pXX is Infinity once more than
   * 1 − XX% fail), and the mean over requests both answered of latency / the oracle's for the same request − 1.
   */
  regret: { p50: number; p99: number; mean: number };
  /**
   * Attempts sent to flaky or adversarial nodes ÷ all attempts; per fifth of the window; successes they served ÷ all.
   */
  badAttemptShare: number;
  badAttemptShareByPhase: number[];
  badSuccessShare: number;
  attemptsByKind: BehaviourCounts;
  failures: FailureCounts;
  /** Time-averaged busy ÷ true slots over honest nodes; spread = max / mean. */
  utilisation: { max: number; mean: number; spread: number };
  overCapacity: number;
  /** slowShareByPhase: decisions over SLOW_DECISION_US, per fifth of the window. */
  decisionUs: { p50: number; p99: number; max: number; slowShareByPhase: number[] };
  meanAttempts: number;
  outcomes: OutcomeCounts;
  tableBuildMs: { p50: number; max: number };
  counters: Record<string, number>;
  wallSeconds: number;
}

/** Linear interpolation between the nearest ranks of an ascending sample (numpy's default), like tools/bench. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = q * (sorted.length - 1);
  const lo = Math.floor(rank);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[Math.ceil(rank)] ?? Number.NaN;
  // Equal neighbours short-cut the interpolation, which Infinity − Infinity would turn into NaN.
  return a === b ? a : a + (b - a) * (rank - lo);
}

/** `values` without NaN (not measured), ascending; Infinity (failed) stays, at the end. */
export function sortedMeasured(values: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? Number.NaN;
    if (!Number.isNaN(v)) out.push(v);
  }
  return Float64Array.from(out).sort();
}

export function regret(policy: number, oracle: number): number {
  return policy / oracle - 1;
}

/**
 * Mean of latency[i] / oracle[i] − 1 over the requests both answered (failures, at Infinity, would make it Infinity).
 */
export function meanRegret(latency: ArrayLike<number>, oracle: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < latency.length; i++) {
    const a = latency[i] ?? Number.NaN;
    const b = oracle[i] ?? Number.NaN;
    if (!Number.isFinite(a) || !Number.isFinite(b) || b <= 0) continue;
    sum += a / b - 1;
    n++;
  }
  return n === 0 ? Number.NaN : sum / n;
}

export function spread(utilisation: readonly number[]): { max: number; mean: number; spread: number } {
  if (utilisation.length === 0) return { max: Number.NaN, mean: Number.NaN, spread: Number.NaN };
  let max = 0;
  let sum = 0;
  for (const u of utilisation) {
    max = Math.max(max, u);
    sum += u;
  }
  const mean = sum / utilisation.length;
  return { max, mean, spread: mean > 0 ? max / mean : Number.NaN };
}

function share(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

/** `oracleLatency`: the oracle's per-request latencies (its own run's `latency`); for the oracle itself, its own. */
export function summarize(
  policy: string,
  r: Recorder,
  oracleLatency: Float64Array,
  counters: Record<string, number>,
  wallSeconds: number,
): PolicyMetrics {
  const latencies = sortedMeasured(r.latency);
  const oracleSorted = sortedMeasured(oracleLatency);
  const decisions = sortedMeasured(r.decisionUs);
  let attempts = 0;
  for (let i = 0; i < r.attempts.length; i++) attempts += r.attempts[i] ?? 0;
  const phaseAttempts = r.phaseAttempts.reduce((a, b) => a + b, 0);
  const phaseBad = r.phaseBadAttempts.reduce((a, b) => a + b, 0);
  const p50 = quantileSorted(latencies, 0.5);
  const p99 = quantileSorted(latencies, 0.99);
  const builds = Float64Array.from(r.tableBuildMs).sort();
  return {
    policy,
    requests: latencies.length,
    successRate: share(r.successes, latencies.length),
    latencyMs: { p50, p99 },
    regret: {
      p50: regret(p50, quantileSorted(oracleSorted, 0.5)),
      p99: regret(p99, quantileSorted(oracleSorted, 0.99)),
      mean: meanRegret(r.latency, oracleLatency),
    },
    badAttemptShare: share(phaseBad, phaseAttempts),
    badAttemptShareByPhase: r.phaseAttempts.map((n, i) => share(r.phaseBadAttempts[i] ?? 0, n)),
    badSuccessShare: share(r.badSuccesses, r.successes),
    attemptsByKind: { ...r.attemptsByKind },
    failures: { ...r.failures },
    utilisation: spread(r.utilisation()),
    overCapacity: r.overCapacity,
    decisionUs: {
      p50: quantileSorted(decisions, 0.5),
      p99: quantileSorted(decisions, 0.99),
      max: decisions[decisions.length - 1] ?? Number.NaN,
      slowShareByPhase: r.phaseRequests.map((n, i) => share(r.phaseSlowDecisions[i] ?? 0, n)),
    },
    meanAttempts: share(attempts, latencies.length),
    outcomes: { ...r.outcomes },
    tableBuildMs: { p50: quantileSorted(builds, 0.5), max: builds[builds.length - 1] ?? Number.NaN },
    counters,
    wallSeconds,
  };
}

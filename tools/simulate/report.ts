// The printed report: one column per policy, one row per metric, then the issue's targets judged for Meshgate.
import { SLOW_DECISION_US } from "./recorder.js";
import type { PolicyMetrics } from "./summary.js";

export interface Verdict {
  target: string;
  met: boolean;
  value: string;
}

const TARGET_NODES = 10_000;

function pct(x: number, digits = 2): string {
  return x === Infinity ? "∞" : Number.isFinite(x) ? `${(100 * x).toFixed(digits)}%` : "–";
}

function num(x: number, digits = 0): string {
  return x === Infinity ? "∞" : Number.isFinite(x) ? x.toFixed(digits) : "–";
}

/** Attempts to each kind of bad node, as a share of all attempts. */
function byKind(m: PolicyMetrics): string {
  const k = m.attemptsByKind;
  const all = k.honest + k.flaky + k.stall + k.fast_error + k.liar;
  return [k.flaky, k.stall, k.fast_error, k.liar].map((n) => pct(all === 0 ? 0 : n / all, 1)).join(" ");
}

/** Cells only: cells asked per request (all requests, warm-up included), and the share of answers that were "full". */
function cellTries(m: PolicyMetrics): string {
  const c = m.counters;
  const requests = c["requests"] ?? 0;
  if (requests === 0) return "–";
  return `${num((c["cellTries"] ?? 0) / requests, 3)} / ${pct((c["fullCells"] ?? 0) / Math.max(1, c["cellTries"] ?? 0))}`;
}

/** Meshgate only: picks that fell back to scanning the pool, and picks sent to a node being explored. */
function scans(m: PolicyMetrics): string {
  const c = m.counters;
  const picks = (c["node"] ?? 0) + (c["saturated"] ?? 0) + (c["no_eligible"] ?? 0) + (c["unknown_model"] ?? 0);
  if (picks === 0) return "–";
  return `${pct((c["scans"] ?? 0) / picks)} / ${pct((c["explored"] ?? 0) / picks)}`;
}

const ROWS: readonly [string, (m: PolicyMetrics) => string][] = [
  ["requests measured", (m) => String(m.requests)],
  ["success after failover", (m) => pct(m.successRate, 3)],
  ["latency p50 / p99 (ms)", (m) => `${num(m.latencyMs.p50)} / ${num(m.latencyMs.p99)}`],
  ["regret p50 / p99", (m) => `${pct(m.regret.p50, 1)} / ${pct(m.regret.p99, 1)}`],
  ["mean per-request regret", (m) => pct(m.regret.mean, 1)],
  ["bad nodes: share of attempts", (m) => pct(m.badAttemptShare)],
  ["  … by fifth of the window", (m) => m.badAttemptShareByPhase.map((x) => pct(x, 1)).join(" ")],
  ["  … flaky / stall / fast-err / liar", (m) => byKind(m)],
  ["bad nodes: share of answers", (m) => pct(m.badSuccessShare)],
  ["utilisation max / mean", (m) => `${num(m.utilisation.max, 2)} / ${num(m.utilisation.mean, 3)}`],
  ["load spread (max/mean)", (m) => num(m.utilisation.spread, 1)],
  ["dispatches over true capacity", (m) => String(m.overCapacity)],
  ["429s / timeouts / stalls", (m) => `${m.outcomes.busy} / ${m.outcomes.timeout} / ${m.outcomes.stalled}`],
  ["errors / SSE errors", (m) => `${m.outcomes.error} / ${m.outcomes.sse_error}`],
  [
    "failed: mid-stream / exhausted / none",
    (m) => `${m.failures.midStream} / ${m.failures.exhausted} / ${m.failures.noNode}`,
  ],
  ["attempts per request", (m) => num(m.meanAttempts, 3)],
  ["cell tries per request / full answers", (m) => cellTries(m)],
  ["decision µs p50 / p99", (m) => `${num(m.decisionUs.p50, 2)} / ${num(m.decisionUs.p99, 2)}`],
  ["decision µs max", (m) => num(m.decisionUs.max, 0)],
  ["pickNode scans / explored (all)", (m) => scans(m)],
  [`  … > ${SLOW_DECISION_US} µs by fifth`, (m) => m.decisionUs.slowShareByPhase.map((x) => pct(x, 1)).join(" ")],
  ["table build ms p50 / max", (m) => `${num(m.tableBuildMs.p50, 1)} / ${num(m.tableBuildMs.max, 1)}`],
  ["wall time (s)", (m) => num(m.wallSeconds, 1)],
];

export function formatTable(metrics: readonly PolicyMetrics[]): string {
  const header = ["", ...metrics.map((m) => m.policy)];
  const rows = [header, ...ROWS.map(([label, cell]) => [label, ...metrics.map(cell)])];
  const widths = header.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join("  "))
    .join("\n");
}

/** The issue's targets for the Meshgate policy. */
export function judge(m: PolicyMetrics, liveNodes: number): Verdict[] {
  const atScale = liveNodes >= TARGET_NODES;
  return [
    { target: "success ≥ 99.9%", met: m.successRate >= 0.999, value: pct(m.successRate, 3) },
    {
      target: "bad nodes' share of attempts < 1% after warm-up",
      met: m.badAttemptShare < 0.01,
      value: pct(m.badAttemptShare),
    },
    { target: "p50 regret ≤ 10%", met: m.regret.p50 <= 0.1, value: pct(m.regret.p50, 1) },
    { target: "no dispatch over a node's true capacity", met: m.overCapacity === 0, value: String(m.overCapacity) },
    {
      target: `decision p99 < 50 µs with ${TARGET_NODES} live nodes`,
      met: atScale && m.decisionUs.p99 < 50,
      value: `${num(m.decisionUs.p99, 2)} µs${atScale ? "" : ` (only ${liveNodes} nodes: not judged at scale)`}`,
    },
  ];
}

export function formatVerdicts(verdicts: readonly Verdict[]): string {
  const lines = verdicts.map((v) => `${v.met ? "target met   " : "TARGET MISSED"}  ${v.target}: ${v.value}`);
  const met = verdicts.filter((v) => v.met).length;
  return [`Meshgate targets: ${met} of ${verdicts.length} met`, ...lines].join("\n");
}

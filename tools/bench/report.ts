// Turns results into the printed tables and the JSON file the README quotes.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { HeartbeatVerifyResult } from "./heartbeats/format.js";
import type { HeartbeatPathResult } from "./heartbeats/path-format.js";
import type { MachineFacts } from "./machine.js";
import type { PhaseSizes } from "./phases.js";
import type { RoutingSizeResult } from "./routing/routing-bench.js";
import type { StatusSizeResult } from "./status/status-bench.js";
import { formatIsolates, type IsolatesComparison } from "./isolates-compare.js";
import { formatSessionVsDirect, type SessionVsDirect } from "./session-compare.js";
import type { SessionBenchResult } from "./sessions/result.js";
import type { StreamCpuResult } from "./stream-cpu.js";
import type { TargetResult, Verdict } from "./verdicts.js";
import type { HotKeyResult } from "./hot-key/hot-key-bench.js";

export interface BenchResults {
  command: string;
  mode: "full" | "quick";
  date: string;
  machine: MachineFacts;
  /** Average cores used by processes outside the bench while it measured (other work on a shared machine). */
  otherCores: number;
  setup: PhaseSizes & { tokenIntervalMs: number; backendLatencyMs: number };
  targets: TargetResult[];
  /** Labels of the CPU meters, in column order. */
  cpuMeters: string[];
  verdicts: Verdict[];
  /** Heartbeat verification in one isolate, and the whole heartbeat path (absent until those phases ran). */
  heartbeats?: HeartbeatVerifyResult;
  heartbeatPath?: HeartbeatPathResult;
  /** Routing decision time per table size. */
  routing?: RoutingSizeResult[];
  status?: StatusSizeResult[];
  /** Nodes held on WebSocket sessions (tools/bench/sessions), and their month's bill beside heartbeats. */
  sessions?: SessionBenchResult;
  /** workerd CPU per 50-event stream, per Worker. */
  streamCpu: StreamCpuResult[];
  /** The same request through the gateway to the direct agent and to the session agent. */
  sessionVsDirect?: SessionVsDirect;
  /** The request path through a gateway of one isolate and one of several, with the lease time per request. */
  isolates?: IsolatesComparison;
  /** One key over 4 isolates: its rate, its account calls, a budget running out, rpm and tpm held (tools/bench/hot-key). */
  hotKey?: HotKeyResult;
}

const ms = (v: number) => v.toFixed(3);
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

function table(header: string[], rows: string[][], firstWidth: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? pad(c, firstWidth) : lpad(c, widths[i] ?? 0))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

function latencyTable(r: BenchResults): string {
  const header = [
    "",
    "c=1 p50 ms",
    "c=1 p99 ms",
    `c=${r.setup.concurrency} req/s`,
    `c=${r.setup.concurrency} p50 ms`,
    "stream TTFB p50",
    "stream total p50",
    "events",
    "arrivals",
  ];
  const rows = r.targets.map((t) => [
    t.label,
    ms(t.latency.latencyMs.p50),
    ms(t.latency.latencyMs.p99),
    t.throughput.requestsPerSecond.toFixed(0),
    ms(t.throughput.latencyMs.p50),
    ms(t.stream.firstByteMs.p50),
    ms(t.stream.totalMs.p50),
    t.stream.events.toFixed(1),
    t.stream.eventArrivals.toFixed(1),
  ]);
  return table(header, rows, 24);
}

function cpuTable(r: BenchResults): string {
  const header = [`CPU µs/request (c=${r.setup.concurrency})`, ...r.cpuMeters, "other processes (cores)"];
  const rows = r.targets.map((t) => [
    t.label,
    ...r.cpuMeters.map((m) => (t.throughput.cpuUsPerRequest[m] ?? Number.NaN).toFixed(0)),
    t.throughput.otherCores.toFixed(2),
  ]);
  return table(header, rows, 24);
}

/** The gateway's CPU next to the bare Worker's, per non-streamed request and per stream, with the ratios. */
function gatewayCpuTable(r: BenchResults): string {
  const perRequest = (id: string) => {
    const t = r.targets.find((x) => x.id === id);
    return t ? (t.throughput.cpuUsPerRequest[t.serverMeter] ?? Number.NaN) : Number.NaN;
  };
  const perStream = (label: string) => r.streamCpu.find((x) => x.label === label)?.cpuUsPerStream ?? Number.NaN;
  const mesh = [perRequest("meshgate"), perStream("meshgate")];
  const bare = [perRequest("bare"), perStream("bare")];
  const rows = [
    ["Meshgate (workerd)", ...mesh.map((v) => v.toFixed(0))],
    ["bare Worker (workerd)", ...bare.map((v) => v.toFixed(0))],
    ["ratio", ...mesh.map((v, i) => `${(v / (bare[i] ?? Number.NaN)).toFixed(2)}x`)],
  ];
  const streams = r.streamCpu[0]?.streams ?? 0;
  return table(
    ["gateway CPU µs", `per request (c=${r.setup.concurrency})`, `per 50-event stream (${streams} streams)`],
    rows,
    24,
  );
}

function verdictTable(verdicts: readonly Verdict[]): string {
  const value = (v: Verdict) =>
    v.unit === "ms" ? `${v.measured >= 0 ? "+" : ""}${ms(v.measured)} ms` : `${v.measured.toFixed(2)}x`;
  const result = (v: Verdict) => (v.pass === null ? "" : v.pass ? "PASS" : "FAIL");
  return table(
    ["target", "measured", "limit", "result"],
    verdicts.map((v) => [v.name, value(v), v.limit, result(v)]),
    60,
  );
}

/** Above this many cores of outside load the comparisons between targets are mostly noise. */
const NOISY_CORES = 0.25;

export function formatReport(r: BenchResults): string {
  const m = r.machine;
  const warning =
    r.otherCores > NOISY_CORES
      ? [
          ``,
          `WARNING: other processes used ${r.otherCores.toFixed(2)} cores during the run; these numbers are skewed. Rerun on an idle machine.`,
        ]
      : [];
  return [
    ``,
    `Meshgate benchmark (${r.mode}) — reproduce with: ${r.command}`,
    `machine: ${m.cores} cores (${m.cpuModel}), Node ${m.node}, Linux ${m.kernel}, miniflare ${m.miniflare}, workerd ${m.workerd}`,
    `noise: load average ${m.loadAverage.toFixed(2)} at start; other processes used ${r.otherCores.toFixed(2)} of ${m.cores} cores on average while measuring`,
    `backend: simulated, ${r.setup.backendLatencyMs} ms latency, 16 tokens, ${r.setup.tokenIntervalMs} ms between the chunks of timed streams (other answers at once); ` +
      `${r.setup.latencyRequests} sequential requests, ${r.setup.throughputRequests} at c=${r.setup.concurrency}, ${r.setup.streamRequests} streamed (after warm-ups)`,
    ``,
    latencyTable(r),
    `(latency = request written to body ended; TTFB = first body byte. The agent and Meshgate stream one more backend`,
    ` event than the client asked for: the usage chunk, which the gateway requests and strips, i.e. one more token ` +
      `interval.)`,
    ``,
    cpuTable(r),
    ``,
    gatewayCpuTable(r),
    ``,
    verdictTable(r.verdicts),
    ...(r.sessionVsDirect ? [``, formatSessionVsDirect(r.sessionVsDirect)] : []),
    ...(r.isolates ? [``, formatIsolates(r.isolates)] : []),
    ...warning,
    ``,
  ].join("\n");
}

export function writeResults(path: string, r: BenchResults): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(r, null, 2)}\n`);
}

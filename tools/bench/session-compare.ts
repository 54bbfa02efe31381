// The same request through the gateway to a node it dials (direct) and to a node that dialled it (session): medians
// over rounds, session/direct ratios and the printed table. Pure, so the arithmetic the comparison rests on is tested.
import { quantile, type Summary } from "./stats.js";

export type PathId = "direct" | "session";

/** What one round measured on one path: a closed loop of non-streamed requests, then one of 50-event streams. */
export interface PathRound {
  requestsPerSecond: number;
  /** p50 latency inside the closed loop, ms. */
  loadedP50Ms: number;
  /** workerd's (the gateway Worker and its Durable Objects, one process here) CPU µs per request. */
  gatewayCpuUsPerRequest: number;
  /** CPU µs per request of the agent serving this path (its whole process group). */
  agentCpuUsPerRequest: number;
  gatewayCpuUsPerStream: number;
  agentCpuUsPerStream: number;
}

/** A path's figures: the median of each over its rounds, with the sequential latency over all rounds' samples. */
export interface PathFigures extends PathRound {
  node: string;
  /** One request at a time, ms (request written → body ended). */
  latencyMs: Summary;
  rounds: PathRound[];
}

export interface ComparisonSizes {
  rounds: number;
  latencyRequests: number;
  concurrency: number;
  throughputRequests: number;
  streams: number;
  streamConcurrency: number;
}

export type RatioKey = "latencyP50" | "latencyP99" | keyof PathRound;

export interface SessionVsDirect {
  sizes: ComparisonSizes;
  direct: PathFigures;
  session: PathFigures;
  /** session ÷ direct, per figure (above 1: the session path is slower, or costs more; below 1 for req/s). */
  ratios: Record<RatioKey, number>;
}

export function median(values: readonly number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/** Each figure's median over `rounds`, taken figure by figure (not the round whose throughput is the median). */
export function medianRound(rounds: readonly PathRound[]): PathRound {
  if (rounds.length === 0) throw new Error("no rounds to take the median of");
  const pick = (key: keyof PathRound) => median(rounds.map((r) => r[key]));
  return {
    requestsPerSecond: pick("requestsPerSecond"),
    loadedP50Ms: pick("loadedP50Ms"),
    gatewayCpuUsPerRequest: pick("gatewayCpuUsPerRequest"),
    agentCpuUsPerRequest: pick("agentCpuUsPerRequest"),
    gatewayCpuUsPerStream: pick("gatewayCpuUsPerStream"),
    agentCpuUsPerStream: pick("agentCpuUsPerStream"),
  };
}

export function pathFigures(node: string, latencyMs: Summary, rounds: readonly PathRound[]): PathFigures {
  return { node, latencyMs, ...medianRound(rounds), rounds: [...rounds] };
}

/** One figure of a path, by the key its ratio is filed under. */
export function figure(p: PathFigures, key: RatioKey): number {
  if (key === "latencyP50") return p.latencyMs.p50;
  if (key === "latencyP99") return p.latencyMs.p99;
  return p[key];
}

export function compare(sizes: ComparisonSizes, direct: PathFigures, session: PathFigures): SessionVsDirect {
  const ratio = (key: RatioKey) => figure(session, key) / figure(direct, key);
  const ratios: Record<RatioKey, number> = {
    latencyP50: ratio("latencyP50"),
    latencyP99: ratio("latencyP99"),
    requestsPerSecond: ratio("requestsPerSecond"),
    loadedP50Ms: ratio("loadedP50Ms"),
    gatewayCpuUsPerRequest: ratio("gatewayCpuUsPerRequest"),
    agentCpuUsPerRequest: ratio("agentCpuUsPerRequest"),
    gatewayCpuUsPerStream: ratio("gatewayCpuUsPerStream"),
    agentCpuUsPerStream: ratio("agentCpuUsPerStream"),
  };
  return { sizes, direct, session, ratios };
}

/** The table's rows: label, figure, decimals. */
function rows(s: ComparisonSizes): [string, RatioKey, number][] {
  const c = `c=${s.concurrency}`;
  return [
    ["c=1 p50 ms", "latencyP50", 3],
    ["c=1 p99 ms", "latencyP99", 3],
    [`${c} req/s`, "requestsPerSecond", 0],
    [`${c} p50 ms`, "loadedP50Ms", 3],
    [`gateway CPU µs/request (${c})`, "gatewayCpuUsPerRequest", 0],
    [`agent CPU µs/request (${c})`, "agentCpuUsPerRequest", 0],
    ["gateway CPU µs/50-event stream", "gatewayCpuUsPerStream", 0],
    ["agent CPU µs/50-event stream", "agentCpuUsPerStream", 0],
  ];
}

export function formatSessionVsDirect(r: SessionVsDirect): string {
  const s = r.sizes;
  const body = rows(s).map(([label, key, digits]) => [
    label,
    figure(r.direct, key).toFixed(digits),
    figure(r.session, key).toFixed(digits),
    `${r.ratios[key].toFixed(2)}x`,
  ]);
  const header = ["session vs direct", "direct", "session", "session/direct"];
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => (cells[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  return [
    line(header),
    ...body.map(line),
    `(the same chat request through the gateway, pinned with provider.only to each node and checked by x-meshgate-node;`,
    ` ${s.latencyRequests} sequential requests, ${s.throughputRequests} at c=${s.concurrency} and ${s.streams} streams at ` +
      `c=${s.streamConcurrency} per path in ${s.rounds} alternating rounds; loaded figures and CPU are medians over rounds)`,
  ].join("\n");
}

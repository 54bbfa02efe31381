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
  /** Mean socket arrivals per stream that completed an event: ~every event when nothing buffers. */
  eventArrivals: number;
}

const ROUND_KEYS = [
  "requestsPerSecond",
  "loadedP50Ms",
  "gatewayCpuUsPerRequest",
  "agentCpuUsPerRequest",
  "gatewayCpuUsPerStream",
  "agentCpuUsPerStream",
  "eventArrivals",
] as const satisfies readonly (keyof PathRound)[];

/** The stream figures, which are all the frame-coalescing comparison measures. */
const STREAM_KEYS = ["gatewayCpuUsPerStream", "agentCpuUsPerStream", "eventArrivals"] as const;
export type StreamKey = (typeof STREAM_KEYS)[number];
export type StreamRound = Pick<PathRound, StreamKey>;

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

/** Streams through a session agent whose answers' chunks are held `coalesceMs` to go down in fewer frames. */
export interface CoalescedFigures extends StreamRound {
  node: string;
  coalesceMs: number;
  rounds: StreamRound[];
  /** ÷ the session path's (default frames) figure. */
  ratios: Record<StreamKey, number>;
}

export interface SessionVsDirect {
  sizes: ComparisonSizes;
  direct: PathFigures;
  session: PathFigures;
  /** session ÷ direct, per figure (above 1: the session path is slower, or costs more; below 1 for req/s). */
  ratios: Record<RatioKey, number>;
  coalesced: CoalescedFigures;
}

export function median(values: readonly number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/** Each of `keys`' median over `rounds`, figure by figure (not the round whose throughput is the median). */
export function medianOf<K extends string>(
  rounds: readonly Record<K, number>[],
  keys: readonly K[],
): Record<K, number> {
  if (rounds.length === 0) throw new Error("no rounds to take the median of");
  const medians = {} as Record<K, number>;
  for (const key of keys) medians[key] = median(rounds.map((r) => r[key]));
  return medians;
}

export function medianRound(rounds: readonly PathRound[]): PathRound {
  return medianOf(rounds, ROUND_KEYS);
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

export function coalescedFigures(
  node: string,
  coalesceMs: number,
  rounds: readonly StreamRound[],
  session: PathFigures,
): CoalescedFigures {
  const medians = medianOf(rounds, STREAM_KEYS);
  const ratios = {
    gatewayCpuUsPerStream: medians.gatewayCpuUsPerStream / session.gatewayCpuUsPerStream,
    agentCpuUsPerStream: medians.agentCpuUsPerStream / session.agentCpuUsPerStream,
    eventArrivals: medians.eventArrivals / session.eventArrivals,
  };
  return { node, coalesceMs, ...medians, rounds: [...rounds], ratios };
}

export function compare(
  sizes: ComparisonSizes,
  direct: PathFigures,
  session: PathFigures,
  coalesced: CoalescedFigures,
): SessionVsDirect {
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
    eventArrivals: ratio("eventArrivals"),
  };
  return { sizes, direct, session, ratios, coalesced };
}

/** Figures every comparison of the request path prints first. */
type RequestKey = "latencyP50" | "latencyP99" | "requestsPerSecond" | "loadedP50Ms" | "gatewayCpuUsPerRequest";

/** The request path's rows of a comparison table (label, figure, decimals), for loops at `concurrency`. */
export function requestRows(concurrency: number): [string, RequestKey, number][] {
  const c = `c=${concurrency}`;
  return [
    ["c=1 p50 ms", "latencyP50", 3],
    ["c=1 p99 ms", "latencyP99", 3],
    [`${c} req/s`, "requestsPerSecond", 0],
    [`${c} p50 ms`, "loadedP50Ms", 3],
    [`gateway CPU µs/request (${c})`, "gatewayCpuUsPerRequest", 0],
  ];
}

/** The table's rows: label, figure, decimals. */
function rows(s: ComparisonSizes): [string, RatioKey, number][] {
  const c = `c=${s.concurrency}`;
  return [
    ...requestRows(s.concurrency),
    [`agent CPU µs/request (${c})`, "agentCpuUsPerRequest", 0],
    ["gateway CPU µs/50-event stream", "gatewayCpuUsPerStream", 0],
    ["agent CPU µs/50-event stream", "agentCpuUsPerStream", 0],
    ["client event arrivals/stream", "eventArrivals", 1],
  ];
}

/** First column left-aligned, the others right-aligned, two spaces apart. */
export function renderTable(header: readonly string[], body: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => (cells[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  return [line(header), ...body.map(line)];
}

function coalescingTable(r: SessionVsDirect): string[] {
  const c = r.coalesced;
  const frames = `${c.coalesceMs} ms frames`;
  const keys: [string, StreamKey, number][] = [
    ["gateway CPU µs/50-event stream", "gatewayCpuUsPerStream", 0],
    ["agent CPU µs/50-event stream", "agentCpuUsPerStream", 0],
    ["client event arrivals/stream", "eventArrivals", 1],
  ];
  const body = keys.map(([label, key, digits]) => [
    label,
    r.session[key].toFixed(digits),
    c[key].toFixed(digits),
    `${c.ratios[key].toFixed(2)}x`,
  ]);
  return renderTable(["session streams, frames coalesced", "session", frames, `${frames}/session`], body);
}

export function formatSessionVsDirect(r: SessionVsDirect): string {
  const s = r.sizes;
  const body = rows(s).map(([label, key, digits]) => [
    label,
    figure(r.direct, key).toFixed(digits),
    figure(r.session, key).toFixed(digits),
    `${r.ratios[key].toFixed(2)}x`,
  ]);
  return [
    ...renderTable(["session vs direct", "direct", "session", "session/direct"], body),
    `(the same chat request through the gateway, pinned with provider.only to each node and checked by x-meshgate-node;`,
    ` ${s.latencyRequests} sequential requests, ${s.throughputRequests} at c=${s.concurrency} and ${s.streams} streams at ` +
      `c=${s.streamConcurrency} per path in ${s.rounds} alternating rounds; loaded figures and CPU are medians over rounds)`,
    ``,
    ...coalescingTable(r),
    `(a third agent in session mode holds each answer's chunks ${r.coalesced.coalesceMs} ms to send them in one frame; ` +
      `the same streams, medians over the same rounds)`,
  ].join("\n");
}

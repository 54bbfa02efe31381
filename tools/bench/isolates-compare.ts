// The same request through the gateway served by one isolate and by several (tools/gateway/isolates.ts), with the
// time each request spent taking its node's slot from an admission cell (Server-Timing `admit`): medians over rounds,
// many/one ratios and the printed table. Pure, so the arithmetic the comparison rests on is tested.
import type { ServerTimings } from "./phases.js";
import { median, medianOf, renderTable, requestRows } from "./session-compare.js";
import type { Summary } from "./stats.js";

/** The Server-Timing entry of the time spent taking node slots from admission cells (worker/src/mesh/server-timing.ts). */
export const ADMIT_ENTRY = "admit";

/** What one round measured on one gateway: a closed loop of non-streamed requests. */
export interface IsolatesRound {
  requestsPerSecond: number;
  /** p50 latency inside the closed loop, ms. */
  loadedP50Ms: number;
  /** The gateway's workerd process (every isolate, the entry Worker and the Durable Objects), CPU µs per request. */
  gatewayCpuUsPerRequest: number;
  /** Lease time per request inside the closed loop, ms. */
  loadedAdmitP50Ms: number;
  loadedAdmitP99Ms: number;
  /** Cores' worth of CPU other processes used meanwhile (noise on a shared machine). */
  otherCores: number;
}

const ROUND_KEYS = [
  "requestsPerSecond",
  "loadedP50Ms",
  "gatewayCpuUsPerRequest",
  "loadedAdmitP50Ms",
  "loadedAdmitP99Ms",
  "otherCores",
] as const satisfies readonly (keyof IsolatesRound)[];

/** One gateway's figures: loaded ones are medians over its rounds; c=1 ones are over all rounds' samples. */
export interface GatewayFigures extends IsolatesRound {
  isolates: number;
  node: string;
  /** One request at a time, ms (request written → body ended). */
  latencyMs: Summary;
  /** Lease time per request, one request at a time, ms. */
  admitMs: Summary;
  /** Lease p50 ÷ whole-path p50, one request at a time and in the closed loop. */
  admitShare: number;
  loadedAdmitShare: number;
  rounds: IsolatesRound[];
}

export type IsolatesKey =
  | "latencyP50"
  | "latencyP99"
  | "admitP50"
  | "admitP99"
  | "admitMean"
  | "admitShare"
  | "loadedAdmitShare"
  | Exclude<keyof IsolatesRound, "otherCores">;

export interface IsolatesSizes {
  rounds: number;
  latencyRequests: number;
  concurrency: number;
  /** Requests in the closed loops per gateway, over all rounds. */
  throughputRequests: number;
}

export interface IsolatesComparison {
  sizes: IsolatesSizes;
  /** Runs this phase alone. */
  command: string;
  one: GatewayFigures;
  many: GatewayFigures;
  /** many ÷ one, per figure (NaN where one's figure is 0, e.g. a lease time below Server-Timing's 0.1 ms). */
  ratios: Record<IsolatesKey, number>;
}

/** The lease times among a loop's Server-Timing entries; the phase fails without them rather than print nothing. */
export function admitOf(timings: ServerTimings, what: string): Summary {
  const admit = timings.timingMs?.[ADMIT_ENTRY];
  if (!admit) throw new Error(`${what}: no "${ADMIT_ENTRY}" entry in the answers' Server-Timing`);
  return admit;
}

export function gatewayFigures(
  isolates: number,
  node: string,
  latency: { latencyMs: Summary; admitMs: Summary },
  rounds: readonly IsolatesRound[],
): GatewayFigures {
  const loaded = medianOf(rounds, ROUND_KEYS);
  return {
    isolates,
    node,
    ...latency,
    ...loaded,
    admitShare: latency.admitMs.p50 / latency.latencyMs.p50,
    // Each round's share, then their median: the lease and the path of one round were measured together.
    loadedAdmitShare: median(rounds.map((r) => r.loadedAdmitP50Ms / r.loadedP50Ms)),
    rounds: [...rounds],
  };
}

/** One figure of a gateway, by the key its ratio is filed under. */
export function isolatesFigure(f: GatewayFigures, key: IsolatesKey): number {
  if (key === "latencyP50") return f.latencyMs.p50;
  if (key === "latencyP99") return f.latencyMs.p99;
  if (key === "admitP50") return f.admitMs.p50;
  if (key === "admitP99") return f.admitMs.p99;
  if (key === "admitMean") return f.admitMs.mean;
  return f[key];
}

/** The table's rows: label, figure, decimals (null: a share, printed as a percentage). */
function rows(concurrency: number): [string, IsolatesKey, number | null][] {
  const c = `c=${concurrency}`;
  return [
    ...requestRows(concurrency),
    ["lease (admit) c=1 p50 ms", "admitP50", 1],
    ["lease (admit) c=1 p99 ms", "admitP99", 1],
    // The gateway's clock reads whole ms: a sub-ms round trip reads 0 or 1, so its p50 is one of those, while the
    // mean over many requests estimates the round trip itself.
    ["lease (admit) c=1 mean ms", "admitMean", 2],
    ["lease share of c=1 p50", "admitShare", null],
    [`lease (admit) ${c} p50 ms`, "loadedAdmitP50Ms", 1],
    [`lease (admit) ${c} p99 ms`, "loadedAdmitP99Ms", 1],
    [`lease share of ${c} p50`, "loadedAdmitShare", null],
  ];
}

export function compareIsolates(
  sizes: IsolatesSizes,
  command: string,
  one: GatewayFigures,
  many: GatewayFigures,
): IsolatesComparison {
  const ratios = {} as Record<IsolatesKey, number>;
  for (const [, key] of rows(sizes.concurrency)) ratios[key] = isolatesFigure(many, key) / isolatesFigure(one, key);
  return { sizes, command, one, many, ratios };
}

const ratioText = (ratio: number): string => (Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : "–");
const valueText = (value: number, digits: number | null): string =>
  digits === null ? `${(value * 100).toFixed(1)}%` : value.toFixed(digits);

export function formatIsolates(r: IsolatesComparison): string {
  const s = r.sizes;
  const body = rows(s.concurrency).map(([label, key, digits]) => [
    label,
    valueText(isolatesFigure(r.one, key), digits),
    valueText(isolatesFigure(r.many, key), digits),
    ratioText(r.ratios[key]),
  ]);
  const n = r.many.isolates;
  return [
    ...renderTable([`isolates ${r.one.isolates} vs ${n}`, `${r.one.isolates}`, `${n}`, `${n}/${r.one.isolates}`], body),
    `(the same chat request through each gateway to a node agent of its own on the same backend, checked by`,
    ` x-meshgate-node; ${s.latencyRequests} sequential requests and ${s.throughputRequests} at c=${s.concurrency} per ` +
      `gateway in ${s.rounds} alternating rounds;`,
    ` loaded figures and CPU are medians over rounds. lease = Server-Timing admit: the acquire round trip to the`,
    ` node's admission cell, as the gateway's clock reads it: in whole ms under workerd here, hence the mean; the`,
    ` release after the answer is not in it. The ${n}-isolate gateway's round-robin entry Worker is a hop, and`,
    ` CPU, that production does not have)`,
    `noise: other processes used ${r.one.otherCores.toFixed(2)} cores beside the ${r.one.isolates}-isolate loops and ` +
      `${r.many.otherCores.toFixed(2)} beside the ${n}-isolate ones (medians over rounds)`,
    `reproduce: ${r.command}`,
  ].join("\n");
}

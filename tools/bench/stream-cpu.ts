// CPU per streamed answer: the same 50-event stream sent through the bare Worker and through Meshgate, each in a
// closed loop, with workerd's CPU read before and after. Workers bill CPU time and the free plan stops a request at
// 10 ms, so this is what a stream costs the gateway, next to the least any Worker on the same runtime spends.
import { measureCpu, type CpuMeter } from "./cpu.js";
import { closedLoop, describeFailures, type Probe } from "./load.js";
import { CHAT_PATH, MODEL, PAIR_MODEL, STREAM_TOKEN_INTERVAL_MS } from "./targets.js";

/** 46 tokens: a role chunk, 46 content chunks, a finish chunk, the usage chunk and [DONE] are 50 events at the node. */
export const STREAM_TOKENS = 46;
export const STREAM_EVENTS = STREAM_TOKENS + 4;

export interface StreamCpuSizes {
  streams: number;
  concurrency: number;
}

export interface StreamCpuTarget {
  label: string;
  baseUrl: string;
  apiKey: string;
  /** The workerd serving this target. */
  meter: CpuMeter;
  /** Pins every stream to this node (PAIR_MODEL, `provider.only`) and checks that it answered; none: MODEL, unpinned. */
  node?: string;
}

export interface StreamCpuResult {
  label: string;
  streams: number;
  /** workerd CPU microseconds per stream. */
  cpuUsPerStream: number;
}

function probe(target: StreamCpuTarget): Probe {
  const pinned = target.node === undefined ? {} : { provider: { only: [target.node] } };
  const body = Buffer.from(
    JSON.stringify({
      model: target.node === undefined ? MODEL : PAIR_MODEL,
      messages: [{ role: "user", content: "Count to fifty for the benchmark." }],
      stream: true,
      max_tokens: STREAM_TOKENS,
      sim_token_interval_ms: STREAM_TOKEN_INTERVAL_MS,
      ...pinned,
    }),
  );
  return {
    url: target.baseUrl + CHAT_PATH,
    headers: { "content-type": "application/json", authorization: `Bearer ${target.apiKey}` },
    body,
    // Pinned streams (session-vs-direct.ts) also count how their events arrive, which frame batching changes.
    ...(target.node === undefined ? {} : { expectNode: target.node, countEvents: true }),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Streams measured in one closed loop, and the CPU microseconds per stream of each meter's process. */
export interface StreamLoopCpu {
  streams: number;
  cpuUsPerStream: Record<string, number>;
  /** Mean arrivals per stream that completed an event (load.ts); 0 unless the target is pinned. */
  eventArrivals: number;
}

/** One warmed-up closed loop of `sizes.streams` streams to `target`, with the CPU each of `meters` spent on it. */
export async function measureStreams(
  target: StreamCpuTarget,
  sizes: StreamCpuSizes,
  meters: readonly CpuMeter[],
): Promise<StreamLoopCpu> {
  const p = probe(target);
  // One at a time first: a node the gateway has not yet seen answer is held to a few concurrent requests.
  const first = await closedLoop(new Array<Probe>(10).fill(p), 1);
  const warm = await closedLoop(new Array<Probe>(Math.max(sizes.concurrency * 2, 20)).fill(p), sizes.concurrency);
  const warmFailures = describeFailures([...first.samples, ...warm.samples]);
  if (warmFailures) throw new Error(`${target.label}, stream CPU warm-up: ${warmFailures}`);
  await sleep(300);
  const { result, cpuSeconds } = await measureCpu(meters, async () => {
    const loop = await closedLoop(new Array<Probe>(sizes.streams).fill(p), sizes.concurrency);
    // Off-response-path work (settling, recording) lands inside the window.
    await sleep(300);
    return loop;
  });
  const failures = describeFailures(result.samples);
  if (failures) throw new Error(`${target.label}, stream CPU: ${failures}`);
  const streams = result.samples.length;
  const cpuUsPerStream: Record<string, number> = {};
  for (const m of meters) cpuUsPerStream[m.label] = ((cpuSeconds[m.label] ?? 0) * 1e6) / streams;
  const eventArrivals = result.samples.reduce((sum, sample) => sum + sample.eventArrivals, 0) / streams;
  return { streams, cpuUsPerStream, eventArrivals };
}

async function oneTarget(target: StreamCpuTarget, sizes: StreamCpuSizes): Promise<StreamCpuResult> {
  const { streams, cpuUsPerStream } = await measureStreams(target, sizes, [target.meter]);
  return { label: target.label, streams, cpuUsPerStream: cpuUsPerStream[target.meter.label] ?? Number.NaN };
}

/** Alternates the targets over `rounds`, so background load on a shared machine hits each alike; sums per target. */
export async function streamCpuPhase(
  targets: readonly StreamCpuTarget[],
  sizes: StreamCpuSizes,
  rounds: number,
): Promise<StreamCpuResult[]> {
  const totals = targets.map((t) => ({ label: t.label, streams: 0, cpuUs: 0 }));
  const perRound = { ...sizes, streams: Math.ceil(sizes.streams / rounds) };
  for (let round = 0; round < rounds; round++) {
    for (const [i, target] of targets.entries()) {
      const r = await oneTarget(target, perRound);
      totals[i]!.streams += r.streams;
      totals[i]!.cpuUs += r.cpuUsPerStream * r.streams;
    }
  }
  return totals.map((t) => ({ label: t.label, streams: t.streams, cpuUsPerStream: t.cpuUs / t.streams }));
}

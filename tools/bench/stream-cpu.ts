// CPU per streamed answer: the same 50-event stream sent through the bare Worker and through Meshgate, each in a
// closed loop, with workerd's CPU read before and after. Workers bill CPU time and the free plan stops a request at
// 10 ms, so this is what a stream costs the gateway, next to the least any Worker on the same runtime spends.
import { measureCpu, type CpuMeter } from "./cpu.js";
import { closedLoop, describeFailures, type Probe } from "./load.js";
import { CHAT_PATH, MODEL, STREAM_TOKEN_INTERVAL_MS } from "./targets.js";

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
}

export interface StreamCpuResult {
  label: string;
  streams: number;
  /** workerd CPU microseconds per stream. */
  cpuUsPerStream: number;
}

function probe(target: StreamCpuTarget): Probe {
  const body = Buffer.from(
    JSON.stringify({
      model: MODEL,
      messages: [{ role: "user", content: "Count to fifty for the benchmark." }],
      stream: true,
      max_tokens: STREAM_TOKENS,
      sim_token_interval_ms: STREAM_TOKEN_INTERVAL_MS,
    }),
  );
  return {
    url: target.baseUrl + CHAT_PATH,
    headers: { "content-type": "application/json", authorization: `Bearer ${target.apiKey}` },
    body,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function oneTarget(target: StreamCpuTarget, sizes: StreamCpuSizes): Promise<StreamCpuResult> {
  const p = probe(target);
  // One at a time first: a node the gateway has not yet seen answer is held to a few concurrent requests.
  await closedLoop(new Array<Probe>(10).fill(p), 1);
  const warm = await closedLoop(new Array<Probe>(Math.max(sizes.concurrency * 2, 20)).fill(p), sizes.concurrency);
  const warmFailures = describeFailures(warm.samples);
  if (warmFailures) throw new Error(`${target.label}, stream CPU warm-up: ${warmFailures}`);
  await sleep(300);
  const { result, cpuSeconds } = await measureCpu([target.meter], async () => {
    const loop = await closedLoop(new Array<Probe>(sizes.streams).fill(p), sizes.concurrency);
    // Off-response-path work (settling, recording) lands inside the window.
    await sleep(300);
    return loop;
  });
  const failures = describeFailures(result.samples);
  if (failures) throw new Error(`${target.label}, stream CPU: ${failures}`);
  return {
    label: target.label,
    streams: result.samples.length,
    cpuUsPerStream: ((cpuSeconds[target.meter.label] ?? 0) * 1e6) / result.samples.length,
  };
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

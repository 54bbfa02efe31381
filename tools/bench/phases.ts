// The three measurements taken for every target: sequential latency, closed-loop throughput (with the CPU each
// process spent on it) and streamed time-to-first-byte. Every phase is preceded by its own warm-up, so JIT
// compilation, connection set-up and per-isolate caches (API key, node snapshot) are paid before the clock starts.
// The e2e tests' parser, not a copy of it: both read the same header the gateway writes.
import { parseServerTiming } from "../gateway/server-timing.js";
import { measureCpu, otherCores, type CpuMeter } from "./cpu.js";
import { closedLoop, describeFailures, type Probe, type Sample } from "./load.js";
import { nsToMs, ratePerSecond, summarize, type Summary } from "./stats.js";

/** The main tables' targets; other phases (session-vs-direct.ts) measure targets of their own ids. */
export type TargetId = "backend" | "agent" | "bare" | "meshgate";

export interface Target<Id extends string = TargetId> {
  id: Id;
  label: string;
  /** `count` requests to send, one probe each (a target may sign each one in advance, off the clock). */
  probes(count: number, streamed: boolean): Promise<Probe[]>;
}

export interface PhaseSizes {
  warmup: number;
  latencyRequests: number;
  concurrency: number;
  throughputRequests: number;
  streamRequests: number;
  /** Latency and stream requests are split into this many alternating rounds across targets. */
  rounds: number;
}

/** Each Server-Timing entry's durations (ms), by entry name; present only when the probes kept the header. */
export interface ServerTimings {
  timingMs?: Record<string, Summary>;
}

export interface LatencyResult extends ServerTimings {
  /** Milliseconds, request written → response body ended. */
  latencyMs: Summary;
}

export interface ThroughputResult extends ServerTimings {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: Summary;
  /** CPU microseconds per request, per measured process (including idle ones, which show ~0). */
  cpuUsPerRequest: Record<string, number>;
  /** Cores' worth of CPU that processes outside the bench used meanwhile: noise on a shared machine. */
  otherCores: number;
}

export interface StreamResult {
  firstByteMs: Summary;
  totalMs: Summary;
  /** Means per request. */
  events: number;
  eventArrivals: number;
  chunks: number;
}

/** Time for off-response-path work (usage batches flush after 20 ms) to land inside the CPU window. */
const SETTLE_MS = 300;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Failed requests would be cheap 4xx/5xx answers that flatter every number: a bench with any is not a result. */
function ensureAllOk(target: Target<string>, phase: string, samples: readonly Sample[]): void {
  const failures = describeFailures(samples);
  if (failures) throw new Error(`${target.label}, ${phase}: ${failures}`);
}

const mean = (samples: readonly Sample[], pick: (s: Sample) => number) =>
  samples.reduce((sum, s) => sum + pick(s), 0) / samples.length;

/** The answers' Server-Timing entries summarized by name, or nothing when no answer kept its header. */
export function serverTimings(samples: readonly Sample[]): ServerTimings {
  const durations = new Map<string, number[]>();
  for (const sample of samples)
    for (const [name, ms] of parseServerTiming(sample.serverTiming)) {
      const list = durations.get(name) ?? [];
      list.push(ms);
      durations.set(name, list);
    }
  if (durations.size === 0) return {};
  return { timingMs: Object.fromEntries([...durations].map(([name, list]) => [name, summarize(list)])) };
}

/** Per-target samples, gathered in alternating rounds (see `interleaved`). */
type SampleSets<Id extends string> = Map<Id, Sample[]>;

/**
 * Sequential requests to every target in `rounds` alternating rounds rather than one target after another: on a
 * shared, noisy machine a burst of background load then hits every target alike instead of skewing one of them.
 */
async function interleaved<Id extends string>(
  targets: readonly Target<Id>[],
  total: number,
  rounds: number,
  stream: boolean,
  phase: string,
): Promise<SampleSets<Id>> {
  const sets: SampleSets<Id> = new Map(targets.map((t) => [t.id, []]));
  const perRound = Math.ceil(total / rounds);
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) {
      const { samples } = await closedLoop(await target.probes(perRound, stream), 1);
      ensureAllOk(target, phase, samples);
      sets.get(target.id)?.push(...samples);
    }
  }
  return sets;
}

async function warmUp(targets: readonly Target<string>[], count: number, stream: boolean): Promise<void> {
  for (const target of targets)
    ensureAllOk(target, "warm-up", (await closedLoop(await target.probes(count, stream), 1)).samples);
}

export async function latencyPhase<Id extends string>(
  targets: readonly Target<Id>[],
  sizes: PhaseSizes,
): Promise<Map<Id, LatencyResult>> {
  await warmUp(targets, sizes.warmup, false);
  const sets = await interleaved(targets, sizes.latencyRequests, sizes.rounds, false, "latency");
  return new Map(
    [...sets].map(([id, samples]) => [
      id,
      { latencyMs: summarize(samples.map((s) => nsToMs(s.totalNs))), ...serverTimings(samples) },
    ]),
  );
}

export async function throughputPhase(
  target: Target<string>,
  sizes: PhaseSizes,
  meters: readonly CpuMeter[],
  machine: CpuMeter,
): Promise<ThroughputResult> {
  const warmup = await closedLoop(
    await target.probes(Math.max(sizes.warmup, sizes.concurrency * 4), false),
    sizes.concurrency,
  );
  ensureAllOk(target, "throughput warm-up", warmup.samples);
  await sleep(SETTLE_MS);
  const probes = await target.probes(sizes.throughputRequests, false);
  const { result, cpuSeconds } = await measureCpu([...meters, machine], async () => {
    const loop = await closedLoop(probes, sizes.concurrency);
    await sleep(SETTLE_MS);
    return loop;
  });
  ensureAllOk(target, "throughput", result.samples);
  const cpuUsPerRequest: Record<string, number> = {};
  for (const m of meters) cpuUsPerRequest[m.label] = ((cpuSeconds[m.label] ?? 0) * 1e6) / result.samples.length;
  return {
    otherCores: otherCores(cpuSeconds, meters, machine, Number(result.elapsedNs) / 1e9 + SETTLE_MS / 1000),
    requests: result.samples.length,
    seconds: Number(result.elapsedNs) / 1e9,
    requestsPerSecond: ratePerSecond(result.samples.length, result.elapsedNs),
    latencyMs: summarize(result.samples.map((s) => nsToMs(s.totalNs))),
    cpuUsPerRequest,
    ...serverTimings(result.samples),
  };
}

export async function streamPhase<Id extends string>(
  targets: readonly Target<Id>[],
  sizes: PhaseSizes,
): Promise<Map<Id, StreamResult>> {
  await warmUp(targets, Math.max(3, Math.round(sizes.streamRequests / 5)), true);
  const sets = await interleaved(targets, sizes.streamRequests, sizes.rounds, true, "stream");
  return new Map(
    [...sets].map(([id, samples]) => [
      id,
      {
        firstByteMs: summarize(samples.map((s) => nsToMs(s.firstByteNs ?? s.totalNs))),
        totalMs: summarize(samples.map((s) => nsToMs(s.totalNs))),
        events: mean(samples, (s) => s.events),
        eventArrivals: mean(samples, (s) => s.eventArrivals),
        chunks: mean(samples, (s) => s.chunks),
      },
    ]),
  );
}

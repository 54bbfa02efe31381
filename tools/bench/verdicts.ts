// The performance targets, judged against baselines measured in the same run. Pure: results in, verdicts out.
import type { LatencyResult, StreamResult, Target, ThroughputResult } from "./phases.js";

export interface TargetResult {
  id: Target["id"];
  label: string;
  latency: LatencyResult;
  throughput: ThroughputResult;
  stream: StreamResult;
  /** The CPU meter label of the process serving this target (workerd for the Workers), for the CPU target. */
  serverMeter: string;
}

export interface Verdict {
  name: string;
  measured: number;
  unit: "ms" | "x";
  limit: string;
  /** null: reported for explanation, not an acceptance target. */
  pass: boolean | null;
}

function find(results: readonly TargetResult[], id: Target["id"]): TargetResult {
  const r = results.find((t) => t.id === id);
  if (!r) throw new Error(`no results for ${id}`);
  return r;
}

function serverCpu(r: TargetResult): number {
  const us = r.throughput.cpuUsPerRequest[r.serverMeter];
  if (us === undefined) throw new Error(`no CPU reading '${r.serverMeter}' for ${r.label}`);
  return us;
}

/** workerd CPU per 50-event stream (stream-cpu.ts), Meshgate's and the bare Worker's, when that phase ran. */
export interface StreamCpu {
  meshgateUs: number;
  bareUs: number;
}

export function judge(results: readonly TargetResult[], streamCpu?: StreamCpu): Verdict[] {
  const backend = find(results, "backend");
  const bare = find(results, "bare");
  const mesh = find(results, "meshgate");
  const agent = results.find((t) => t.id === "agent");
  const p50 = (r: TargetResult) => r.latency.latencyMs.p50;

  const verdicts: Verdict[] = [];
  const wholePath = p50(mesh) - p50(backend);
  verdicts.push({
    name: "whole-path p50 overhead over backend (Meshgate - backend)",
    measured: wholePath,
    unit: "ms",
    limit: "< 1 ms",
    pass: wholePath < 1,
  });
  const gatewayOnly = p50(mesh) - p50(bare);
  verdicts.push({
    name: "  gateway-only overhead (Meshgate - bare Worker)",
    measured: gatewayOnly,
    unit: "ms",
    limit: "< 1 ms",
    pass: gatewayOnly < 1,
  });
  if (agent) {
    const hop = p50(agent) - p50(backend);
    verdicts.push({
      name: "  of which node agent hop (agent - backend)",
      measured: hop,
      unit: "ms",
      limit: "info",
      pass: null,
    });
    verdicts.push({
      name: "  of which gateway logic (the rest)",
      measured: gatewayOnly - hop,
      unit: "ms",
      limit: "info",
      pass: null,
    });
  }
  verdicts.push({
    name: "  bare Worker runtime cost (bare - backend)",
    measured: p50(bare) - p50(backend),
    unit: "ms",
    limit: "info",
    pass: null,
  });

  const ratio = mesh.throughput.requestsPerSecond / bare.throughput.requestsPerSecond;
  verdicts.push({
    name: "Meshgate throughput / bare Worker throughput",
    measured: ratio,
    unit: "x",
    limit: ">= 0.5x",
    pass: ratio >= 0.5,
  });

  const ttfb = mesh.stream.firstByteMs.p50 - bare.stream.firstByteMs.p50;
  verdicts.push({
    name: "streamed first byte p50, Meshgate - bare Worker",
    measured: ttfb,
    unit: "ms",
    limit: "<= 1 ms",
    pass: ttfb <= 1,
  });

  const cpu = serverCpu(mesh) / serverCpu(bare);
  verdicts.push({
    name: "gateway CPU per non-streamed request / bare Worker's",
    measured: cpu,
    unit: "x",
    limit: "<= 3x",
    pass: cpu <= 3,
  });
  if (streamCpu) {
    const perStream = streamCpu.meshgateUs / streamCpu.bareUs;
    verdicts.push({
      name: "gateway CPU per 50-event stream / bare Worker's",
      measured: perStream,
      unit: "x",
      limit: "<= 2x",
      pass: perStream <= 2,
    });
  }

  // Chunks must reach the client as the backend sent them; a buffering hop collapses them into a few arrivals.
  const unbuffered = mesh.stream.eventArrivals / mesh.stream.events;
  verdicts.push({
    name: "streamed events arriving separately (Meshgate)",
    measured: unbuffered,
    unit: "x",
    limit: ">= 0.9x",
    pass: unbuffered >= 0.9,
  });
  return verdicts;
}

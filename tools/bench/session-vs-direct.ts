// Whole-path latency and CPU of one chat request through the gateway to the direct agent (the gateway dials its URL)
// and to the session agent (the gateway relays it down the agent's WebSocket through the node's Durable Object). Both
// agents serve the same backend; every request is pinned with provider.only and its x-meshgate-node checked.
import type { CpuMeter } from "./cpu.js";
import { latencyPhase, throughputPhase, type PhaseSizes, type Target } from "./phases.js";
import {
  compare,
  pathFigures,
  type ComparisonSizes,
  type PathId,
  type PathRound,
  type SessionVsDirect,
} from "./session-compare.js";
import type { Stack } from "./stack.js";
import { measureStreams } from "./stream-cpu.js";
import { pinnedTarget } from "./targets.js";

export interface SessionVsDirectSizes extends PhaseSizes {
  /** Streams per path, over all rounds. */
  cpuStreams: number;
  streamConcurrency: number;
}

interface Path {
  target: Target<PathId>;
  node: string;
  agent: CpuMeter;
}

function paths(stack: Stack): Path[] {
  const path = (id: PathId, label: string, node: string, agent: CpuMeter): Path => ({
    target: pinnedTarget(id, label, stack.gatewayUrl, stack.apiKey, node),
    node,
    agent,
  });
  return [
    path("direct", "Meshgate → direct agent", stack.agentNodeId, stack.meters.agent),
    path("session", "Meshgate → session agent", stack.sessionNodeId, stack.meters.sessionAgent),
  ];
}

/** One round on one path: a warmed-up closed loop of non-streamed requests, then one of 50-event streams. */
async function measureRound(
  stack: Stack,
  path: Path,
  sizes: SessionVsDirectSizes,
  meters: readonly CpuMeter[],
  machine: CpuMeter,
): Promise<PathRound> {
  const perRound = (total: number) => Math.ceil(total / sizes.rounds);
  const loop = await throughputPhase(
    path.target,
    { ...sizes, throughputRequests: perRound(sizes.throughputRequests) },
    meters,
    machine,
  );
  const gateway = stack.meters.meshgate;
  const streams = await measureStreams(
    { label: path.target.label, baseUrl: stack.gatewayUrl, apiKey: stack.apiKey, meter: gateway, node: path.node },
    { streams: perRound(sizes.cpuStreams), concurrency: sizes.streamConcurrency },
    [gateway, path.agent],
  );
  const cpu = (perUnit: Record<string, number>, meter: CpuMeter) => perUnit[meter.label] ?? Number.NaN;
  return {
    requestsPerSecond: loop.requestsPerSecond,
    loadedP50Ms: loop.latencyMs.p50,
    gatewayCpuUsPerRequest: cpu(loop.cpuUsPerRequest, gateway),
    agentCpuUsPerRequest: cpu(loop.cpuUsPerRequest, path.agent),
    gatewayCpuUsPerStream: cpu(streams.cpuUsPerStream, gateway),
    agentCpuUsPerStream: cpu(streams.cpuUsPerStream, path.agent),
  };
}

/**
 * Sequential latency in alternating rounds (as the latency phase), then `rounds` rounds that each run the loaded
 * measurements on one path and then the other, so background load on a shared machine hits both alike.
 */
export async function sessionVsDirectPhase(
  stack: Stack,
  sizes: SessionVsDirectSizes,
  meters: readonly CpuMeter[],
  machine: CpuMeter,
  progress: (line: string) => void,
): Promise<SessionVsDirect> {
  const [direct, session] = paths(stack);
  if (!direct || !session) throw new Error("session vs direct needs both paths");
  progress(`session vs direct: ${sizes.latencyRequests} sequential requests per path in ${sizes.rounds} rounds`);
  const latency = await latencyPhase([direct.target, session.target], sizes);
  const rounds: Record<PathId, PathRound[]> = { direct: [], session: [] };
  for (let round = 1; round <= sizes.rounds; round++) {
    progress(`session vs direct: round ${round} of ${sizes.rounds} (requests at c=${sizes.concurrency}, streams)`);
    for (const path of [direct, session])
      rounds[path.target.id].push(await measureRound(stack, path, sizes, meters, machine));
  }
  const figures = (path: Path) => {
    const summary = latency.get(path.target.id);
    if (!summary) throw new Error(`no latency for ${path.target.label}`);
    return pathFigures(path.node, summary.latencyMs, rounds[path.target.id]);
  };
  return compare(comparisonSizes(sizes), figures(direct), figures(session));
}

function comparisonSizes(sizes: SessionVsDirectSizes): ComparisonSizes {
  const perRound = (total: number) => Math.ceil(total / sizes.rounds);
  return {
    rounds: sizes.rounds,
    latencyRequests: perRound(sizes.latencyRequests) * sizes.rounds,
    concurrency: sizes.concurrency,
    throughputRequests: perRound(sizes.throughputRequests) * sizes.rounds,
    streams: perRound(sizes.cpuStreams) * sizes.rounds,
    streamConcurrency: sizes.streamConcurrency,
  };
}

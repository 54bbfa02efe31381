// Whole-path latency and CPU of one chat request through the gateway to the direct agent (the gateway dials its URL)
// and to the session agent (the gateway relays it down the agent's WebSocket through the node's Durable Object). Both
// agents serve the same backend; every request is pinned with provider.only and its x-meshgate-node checked. Streams
// also go to a third agent in session mode that batches its answers' frames (COALESCE_MS), next to the session's.
import type { CpuMeter } from "./cpu.js";
import { latencyPhase, throughputPhase, type PhaseSizes, type Target } from "./phases.js";
import {
  coalescedFigures,
  compare,
  pathFigures,
  type ComparisonSizes,
  type PathId,
  type PathRound,
  type SessionVsDirect,
  type StreamRound,
} from "./session-compare.js";
import { COALESCE_MS, type Stack } from "./stack.js";
import { measureStreams } from "./stream-cpu.js";
import { gatewayTarget } from "./targets.js";

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
    target: gatewayTarget(id, label, stack.gatewayUrl, stack.apiKey, node, { pinned: true }),
    node,
    agent,
  });
  return [
    path("direct", "Meshgate → direct agent", stack.agentNodeId, stack.meters.agent),
    path("session", "Meshgate → session agent", stack.sessionNodeId, stack.meters.sessionAgent),
  ];
}

const perRound = (sizes: SessionVsDirectSizes, total: number) => Math.ceil(total / sizes.rounds);

/** One round's closed loop of 50-event streams pinned to `node`: gateway and agent CPU, and how events arrived. */
async function streamRound(
  stack: Stack,
  label: string,
  node: string,
  agent: CpuMeter,
  sizes: SessionVsDirectSizes,
): Promise<StreamRound> {
  const gateway = stack.meters.meshgate;
  const loop = await measureStreams(
    { label, baseUrl: stack.gatewayUrl, apiKey: stack.apiKey, meter: gateway, node },
    { streams: perRound(sizes, sizes.cpuStreams), concurrency: sizes.streamConcurrency },
    [gateway, agent],
  );
  return {
    gatewayCpuUsPerStream: loop.cpuUsPerStream[gateway.label] ?? Number.NaN,
    agentCpuUsPerStream: loop.cpuUsPerStream[agent.label] ?? Number.NaN,
    eventArrivals: loop.eventArrivals,
  };
}

/** One round on one path: a warmed-up closed loop of non-streamed requests, then one of 50-event streams. */
async function measureRound(
  stack: Stack,
  path: Path,
  sizes: SessionVsDirectSizes,
  meters: readonly CpuMeter[],
  machine: CpuMeter,
): Promise<PathRound> {
  const loop = await throughputPhase(
    path.target,
    { ...sizes, throughputRequests: perRound(sizes, sizes.throughputRequests) },
    meters,
    machine,
  );
  const gateway = stack.meters.meshgate;
  return {
    requestsPerSecond: loop.requestsPerSecond,
    loadedP50Ms: loop.latencyMs.p50,
    gatewayCpuUsPerRequest: loop.cpuUsPerRequest[gateway.label] ?? Number.NaN,
    agentCpuUsPerRequest: loop.cpuUsPerRequest[path.agent.label] ?? Number.NaN,
    ...(await streamRound(stack, path.target.label, path.node, path.agent, sizes)),
  };
}

/**
 * Sequential latency in alternating rounds (as the latency phase), then `rounds` rounds that each run the loaded
 * measurements on one path, then the other, then the coalescing agent's streams, so background load on a shared
 * machine hits all alike.
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
  const coalesced: StreamRound[] = [];
  const coalescedLabel = `Meshgate → session agent, ${COALESCE_MS} ms frames`;
  for (let round = 1; round <= sizes.rounds; round++) {
    progress(`session vs direct: round ${round} of ${sizes.rounds} (requests at c=${sizes.concurrency}, streams)`);
    for (const path of [direct, session])
      rounds[path.target.id].push(await measureRound(stack, path, sizes, meters, machine));
    coalesced.push(await streamRound(stack, coalescedLabel, stack.coalescedNodeId, stack.meters.coalescedAgent, sizes));
  }
  const figures = (path: Path) => {
    const summary = latency.get(path.target.id);
    if (!summary) throw new Error(`no latency for ${path.target.label}`);
    return pathFigures(path.node, summary.latencyMs, rounds[path.target.id]);
  };
  const sessionFigures = figures(session);
  return compare(
    comparisonSizes(sizes),
    figures(direct),
    sessionFigures,
    coalescedFigures(stack.coalescedNodeId, COALESCE_MS, coalesced, sessionFigures),
  );
}

function comparisonSizes(sizes: SessionVsDirectSizes): ComparisonSizes {
  return {
    rounds: sizes.rounds,
    latencyRequests: perRound(sizes, sizes.latencyRequests) * sizes.rounds,
    concurrency: sizes.concurrency,
    throughputRequests: perRound(sizes, sizes.throughputRequests) * sizes.rounds,
    streams: perRound(sizes, sizes.cpuStreams) * sizes.rounds,
    streamConcurrency: sizes.streamConcurrency,
  };
}

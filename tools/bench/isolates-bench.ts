// The request path served by one isolate (the stack's gateway) and by ISOLATES of them (a second gateway started here,
// tools/gateway/isolates.ts), each to a direct node agent of its own on the stack's backend: sequential latency,
// closed-loop throughput, workerd CPU per request, and the lease time every answer reports (Server-Timing `admit`).
import { machineMeter, groupMeter, processMeter, type CpuMeter } from "./cpu.js";
import {
  admitOf,
  compareIsolates,
  gatewayFigures,
  type GatewayFigures,
  type IsolatesComparison,
  type IsolatesRound,
} from "./isolates-compare.js";
import { latencyPhase, throughputPhase, type LatencyResult, type PhaseSizes, type Target } from "./phases.js";
import { pidOf, startDirectAgent, startMeshgate, type Stack } from "./stack.js";
import { gatewayTarget } from "./targets.js";

/** As many isolates as the acceptance names. */
export const ISOLATES = 4;

type Side = "one" | "many";

/** MODEL unpinned, as the main tables' whole path asks; each answer's Server-Timing kept for its `admit` entry. */
const TIMED = { pinned: false, keepServerTiming: true };

interface Gateway {
  isolates: number;
  target: Target<Side>;
  node: string;
  /** The gateway's workerd process. */
  meter: CpuMeter;
  agentMeter: CpuMeter;
}

function stackSide(stack: Stack): Gateway {
  return {
    isolates: 1,
    target: gatewayTarget("one", "Meshgate, 1 isolate", stack.gatewayUrl, stack.apiKey, stack.agentNodeId, TIMED),
    node: stack.agentNodeId,
    meter: stack.meters.meshgate,
    agentMeter: stack.meters.agent,
  };
}

/** The second gateway and its agent; `stop` ends both (they also stop on shutdown, whatever fails). */
async function startManySide(
  stack: Stack,
  progress: (line: string) => void,
): Promise<Gateway & { stop(): Promise<void> }> {
  const { gateway, apiKey } = await startMeshgate(stack.log(`gateway-x${ISOLATES}`), { isolates: ISOLATES });
  progress(`Meshgate ×${ISOLATES}     ${gateway.url} (workerd pid ${gateway.pid ?? "?"})`);
  try {
    const name = `node-agent-x${ISOLATES}`;
    const agent = await startDirectAgent(gateway.url, stack.backendUrl, name, `${name}-key.json`, stack.log);
    progress(`node agent ×${ISOLATES}   ${agent.url} (pid ${agent.process.pid}), registered as ${agent.nodeId}`);
    const label = `Meshgate, ${ISOLATES} isolates`;
    return {
      isolates: ISOLATES,
      target: gatewayTarget("many", label, gateway.url, apiKey, agent.nodeId, TIMED),
      node: agent.nodeId,
      meter: processMeter(`workerd Meshgate ×${ISOLATES}`, pidOf(gateway, `${ISOLATES}-isolate gateway`)),
      agentMeter: groupMeter(`node agent ×${ISOLATES}`, agent.process.pid),
      stop: async () => {
        await agent.process.stop();
        await gateway.stop();
      },
    };
  } catch (err) {
    await gateway.stop();
    throw err;
  }
}

/** One warmed-up closed loop of non-streamed requests on one gateway. */
async function measureRound(
  side: Gateway,
  sizes: PhaseSizes,
  meters: readonly CpuMeter[],
  machine: CpuMeter,
): Promise<IsolatesRound> {
  const loop = await throughputPhase(side.target, sizes, meters, machine);
  const admit = admitOf(loop, `${side.target.label} at c=${sizes.concurrency}`);
  return {
    requestsPerSecond: loop.requestsPerSecond,
    loadedP50Ms: loop.latencyMs.p50,
    gatewayCpuUsPerRequest: loop.cpuUsPerRequest[side.meter.label] ?? Number.NaN,
    loadedAdmitP50Ms: admit.p50,
    loadedAdmitP99Ms: admit.p99,
    otherCores: loop.otherCores,
  };
}

function figuresOf(side: Gateway, latency: ReadonlyMap<Side, LatencyResult>, rounds: IsolatesRound[]): GatewayFigures {
  const result = latency.get(side.target.id);
  if (!result) throw new Error(`no latency for ${side.target.label}`);
  const admitMs = admitOf(result, `${side.target.label} at c=1`);
  return gatewayFigures(side.isolates, side.node, { latencyMs: result.latencyMs, admitMs }, rounds);
}

/**
 * Sequential latency in alternating rounds (as the latency phase), then `rounds` rounds that each run a closed loop
 * on one gateway, then the other, so background load on a shared machine hits both alike.
 */
async function measure(
  stack: Stack,
  sides: readonly [Gateway, Gateway],
  sizes: PhaseSizes,
  progress: (line: string) => void,
): Promise<[GatewayFigures, GatewayFigures]> {
  const machine = machineMeter("machine");
  // Every process on the path of either gateway, so that "other cores" is the machine's load beside the bench.
  const meters = [...sides.flatMap((s) => [s.meter, s.agentMeter]), stack.meters.backend, stack.meters.client];
  progress(`isolates: ${sizes.latencyRequests} sequential requests per gateway in ${sizes.rounds} rounds`);
  const latency = await latencyPhase(
    sides.map((s) => s.target),
    sizes,
  );
  const perRound = { ...sizes, throughputRequests: Math.ceil(sizes.throughputRequests / sizes.rounds) };
  const rounds: [IsolatesRound[], IsolatesRound[]] = [[], []];
  for (let round = 1; round <= sizes.rounds; round++) {
    progress(
      `isolates: round ${round} of ${sizes.rounds} (${perRound.throughputRequests} requests at c=${sizes.concurrency})`,
    );
    for (const [i, side] of sides.entries()) rounds[i]?.push(await measureRound(side, perRound, meters, machine));
  }
  return [figuresOf(sides[0], latency, rounds[0]), figuresOf(sides[1], latency, rounds[1])];
}

/** The phase: starts the ISOLATES-isolate gateway and its agent, measures both gateways, stops what it started. */
export async function isolatesPhase(
  stack: Stack,
  sizes: PhaseSizes,
  command: string,
  progress: (line: string) => void,
): Promise<IsolatesComparison> {
  const many = await startManySide(stack, progress);
  try {
    const [oneFigures, manyFigures] = await measure(stack, [stackSide(stack), many], sizes, progress);
    const perRound = Math.ceil(sizes.throughputRequests / sizes.rounds);
    const compared = {
      rounds: sizes.rounds,
      latencyRequests: Math.ceil(sizes.latencyRequests / sizes.rounds) * sizes.rounds,
      concurrency: sizes.concurrency,
      throughputRequests: perRound * sizes.rounds,
    };
    return compareIsolates(compared, command, oneFigures, manyFigures);
  } finally {
    await many.stop();
  }
}

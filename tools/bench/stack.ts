// Starts everything the bench measures: the simulated backend, the bare Worker, the Meshgate gateway (fresh secrets,
// in-memory state), an API key and two node agents on the same backend, registered: one the gateway dials (direct),
// one that dials the gateway (session mode), which serves only PAIR_MODEL so that the other phases never reach it. Every piece registers its own cleanup with
// tools/processes, so `shutdown()` (or Ctrl-C) stops them all, whatever failed halfway.
import { mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_SIM_MODELS } from "@meshgate/sim-backend";
import { generateDevVars, type DevVars } from "../gateway/dev-vars.js";
import { startGateway, type Gateway } from "../gateway/gateway.js";
import { MESHGATE_DIR, REPO_ROOT } from "../gateway/paths.js";
import { createApiKey } from "../gateway/admin.js";
import { waitForNode } from "../gateway/nodes.js";
import {
  spawnProcess,
  startNodeAgent,
  type LineSink,
  type ManagedProcess,
  type NodeAgent,
} from "../processes/index.js";
import { startBareWorker } from "./bare-gateway.js";
import { groupMeter, processMeter, selfMeter, type CpuMeter } from "./cpu.js";
import { PAIR_MODEL } from "./targets.js";

export const BENCH_DIR = join(MESHGATE_DIR, "bench");
export const LOG_FILE = join(BENCH_DIR, "bench.log");
/** Per agent: well above the bench's concurrency, as the gateway adds its own in-flight count to the one reported. */
const CAPACITY = 1000;

export interface StackOptions {
  tokenIntervalMs: number;
  backendLatencyMs: number;
  /** Opens the Meshgate workerd's V8 inspector on this port, for CPU profiles. */
  inspectorPort?: number;
}

export interface Stack {
  backendUrl: string;
  agentUrl: string;
  agentNodeId: string;
  /** The agent in session mode (no port). */
  sessionNodeId: string;
  /** Another, whose answers' chunks go down the session in frames of COALESCE_MS. */
  coalescedNodeId: string;
  bareUrl: string;
  gatewayUrl: string;
  /** Sinks into the bench's log file, for pieces a phase starts of its own. */
  log: (name: string) => LineSink;
  apiKey: string;
  gatewaySeed: string;
  meters: {
    meshgate: CpuMeter;
    bare: CpuMeter;
    agent: CpuMeter;
    sessionAgent: CpuMeter;
    coalescedAgent: CpuMeter;
    backend: CpuMeter;
    client: CpuMeter;
  };
}

/**
 * Everything the pieces print goes to one log file, not the terminal, whose output would cost CPU mid-measurement.
 * Synchronous writes: the pieces log a few lines each (none per request), and nothing is lost when we exit.
 */
export function logSinks(): (name: string) => LineSink {
  mkdirSync(BENCH_DIR, { recursive: true });
  const fd = openSync(LOG_FILE, "w");
  return (name) => (line) => void writeSync(fd, `[${name}] ${line}\n`);
}

/**
 * The simulated backend in its own process, not in this one: the load generator's event loop must not also serve the
 * backend. Plain `node --import tsx` rather than the tsx CLI, which would add a supervising process.
 */
export function spawnBackend(opts: StackOptions, sink: LineSink): ManagedProcess {
  const args = [
    "--port",
    "0",
    "--models",
    [...DEFAULT_SIM_MODELS, PAIR_MODEL].join(","),
    "--token-interval-ms",
    String(opts.tokenIntervalMs),
    "--latency-ms",
    String(opts.backendLatencyMs),
  ];
  const script = join(REPO_ROOT, "tools/sim-backend/main.ts");
  return spawnProcess({
    name: "sim-backend",
    command: process.execPath,
    args: ["--import", "tsx", script, ...args],
    cwd: REPO_ROOT,
    sink,
  });
}

export function pidOf(gateway: Gateway, what: string): number {
  if (gateway.pid === undefined)
    throw new Error(`cannot find the workerd process of the ${what} (CPU accounting needs Linux /proc)`);
  return gateway.pid;
}

/**
 * How long the third agent holds an answer's chunks to send them in one session frame: about four of the timed
 * streams' 5 ms events, enough to show what batching frames saves (it delays each token by up to as much).
 */
export const COALESCE_MS = 20;

/** The agent with COALESCE_MS frames: `node-agent start` has no flag for it, so it runs through a bench launcher. */
async function startCoalescingAgent(
  gatewayUrl: string,
  backendUrl: string,
  sink: LineSink,
): Promise<{ process: ManagedProcess; nodeId: string }> {
  const script = join(REPO_ROOT, "tools/bench/coalescing-agent.ts");
  const child = spawnProcess({
    name: "coalescing-agent",
    command: process.execPath,
    args: [
      ...["--import", "tsx", script, "--coalesce-ms", String(COALESCE_MS), "--gateway", gatewayUrl],
      ...["--upstream", backendUrl, "--key-file", join(BENCH_DIR, "coalescing-node-key.json")],
      ...["--models", PAIR_MODEL, "--capacity", String(CAPACITY)],
    ],
    cwd: REPO_ROOT,
    sink,
  });
  const m = await child.waitForLine(/ session open .*\bnode=(\S+)/, 60_000);
  return { process: child, nodeId: m[1] ?? "" };
}

/** An agent the gateway dials (every model the backend serves), once the gateway lists it. */
export async function startDirectAgent(
  gatewayUrl: string,
  backendUrl: string,
  name: string,
  keyFile: string,
  sink: (name: string) => LineSink,
): Promise<NodeAgent> {
  const agent = await startNodeAgent({
    gatewayUrl,
    upstreamUrl: backendUrl,
    capacity: CAPACITY,
    name,
    keyFile: join(BENCH_DIR, keyFile),
    sink: sink(name),
  });
  await waitForNode(gatewayUrl, agent.nodeId);
  return agent;
}

interface Agents {
  direct: NodeAgent;
  session: NodeAgent;
  coalesced: { process: ManagedProcess; nodeId: string };
}

/**
 * The direct agent (every model the backend serves), and two in session mode that serve only PAIR_MODEL, so the
 * phases that ask for MODEL reach the direct one alone. Each listed by the gateway before the next starts.
 */
async function startAgents(
  gatewayUrl: string,
  backendUrl: string,
  sink: (name: string) => LineSink,
  progress: (line: string) => void,
): Promise<Agents> {
  const common = { gatewayUrl, upstreamUrl: backendUrl, capacity: CAPACITY };
  const direct = await startDirectAgent(gatewayUrl, backendUrl, "node-agent", "node-key.json", sink);
  progress(`node agent      ${direct.url} (pid ${direct.process.pid}), registered as ${direct.nodeId}`);
  const session = await startNodeAgent({
    ...common,
    name: "session-agent",
    keyFile: join(BENCH_DIR, "session-node-key.json"),
    session: true,
    models: [PAIR_MODEL],
    sink: sink("session-agent"),
  });
  await waitForNode(gatewayUrl, session.nodeId);
  progress(`session agent   no port (pid ${session.process.pid}), session open as ${session.nodeId}`);
  const coalesced = await startCoalescingAgent(gatewayUrl, backendUrl, sink("coalescing-agent"));
  await waitForNode(gatewayUrl, coalesced.nodeId);
  progress(
    `session agent   ${COALESCE_MS} ms frames (pid ${coalesced.process.pid}), session open as ${coalesced.nodeId}`,
  );
  return { direct, session, coalesced };
}

export interface Meshgate {
  gateway: Gateway;
  apiKey: string;
  /** The Worker's secrets (fresh ones), among them the key it signs requests to nodes with. */
  vars: DevVars;
}

/** A Meshgate gateway with fresh secrets, in-memory state and an API key; `isolates` copies of the Worker (default 1). */
export async function startMeshgate(
  sink: LineSink,
  opts: { inspectorPort?: number | undefined; isolates?: number } = {},
): Promise<Meshgate> {
  const vars = generateDevVars();
  const gateway = await startGateway({
    vars,
    sink,
    ...(opts.inspectorPort ? { inspectorPort: opts.inspectorPort } : {}),
    ...(opts.isolates ? { isolates: opts.isolates } : {}),
  });
  try {
    const { key } = await createApiKey(gateway.url, vars.ADMIN_TOKEN, "bench");
    return { gateway, apiKey: key, vars };
  } catch (err) {
    await gateway.stop();
    throw err;
  }
}

export async function startStack(opts: StackOptions, progress: (line: string) => void): Promise<Stack> {
  const sink = logSinks();
  const backend = spawnBackend(opts, sink("sim-backend"));
  const backendUrl = (await backend.waitForLine(/listening on (http:\/\/\S+)/))[1] ?? "";
  progress(`sim backend     ${backendUrl} (pid ${backend.pid})`);

  // The bare Worker first: both builds write .meshgate/build/worker.js, and the one left there should be Meshgate's.
  const bare = await startBareWorker(backendUrl, sink("bare-worker"));
  progress(`bare Worker     ${bare.url} (workerd pid ${bare.pid ?? "?"})`);

  const { gateway, apiKey, vars } = await startMeshgate(sink("gateway"), { inspectorPort: opts.inspectorPort });
  progress(`Meshgate        ${gateway.url} (workerd pid ${gateway.pid ?? "?"})`);

  const agents = await startAgents(gateway.url, backendUrl, sink, progress);
  return {
    backendUrl,
    agentUrl: agents.direct.url,
    agentNodeId: agents.direct.nodeId,
    sessionNodeId: agents.session.nodeId,
    coalescedNodeId: agents.coalesced.nodeId,
    bareUrl: bare.url,
    gatewayUrl: gateway.url,
    log: sink,
    apiKey,
    gatewaySeed: vars.GATEWAY_SIGNING_KEY,
    meters: {
      meshgate: processMeter("workerd Meshgate", pidOf(gateway, "gateway")),
      bare: processMeter("workerd bare", pidOf(bare, "bare Worker")),
      agent: groupMeter("node agent", agents.direct.process.pid),
      sessionAgent: groupMeter("session agent", agents.session.process.pid),
      coalescedAgent: groupMeter("coalescing agent", agents.coalesced.process.pid),
      backend: groupMeter("sim backend", backend.pid),
      client: selfMeter("bench client"),
    },
  };
}

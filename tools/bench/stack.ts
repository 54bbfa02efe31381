// Starts everything the bench measures: the simulated backend, the bare Worker, the Meshgate gateway (fresh secrets,
// in-memory state), an API key and two node agents on the same backend, registered: one the gateway dials (direct),
// one that dials the gateway (session mode), which serves only PAIR_MODEL so that the other phases never reach it. Every piece registers its own cleanup with
// tools/processes, so `shutdown()` (or Ctrl-C) stops them all, whatever failed halfway.
import { mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_SIM_MODELS } from "@meshgate/sim-backend";
import { generateDevVars } from "../gateway/dev-vars.js";
import { startGateway, type Gateway } from "../gateway/gateway.js";
import { MESHGATE_DIR, REPO_ROOT } from "../gateway/paths.js";
import { createApiKey } from "../gateway/admin.js";
import { waitForNode } from "../gateway/nodes.js";
import { spawnProcess, startNodeAgent, type LineSink, type ManagedProcess } from "../processes/index.js";
import { startBareWorker } from "./bare-gateway.js";
import { groupMeter, processMeter, selfMeter, type CpuMeter } from "./cpu.js";
import { PAIR_MODEL } from "./targets.js";

export const BENCH_DIR = join(MESHGATE_DIR, "bench");
export const LOG_FILE = join(BENCH_DIR, "bench.log");

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
  bareUrl: string;
  gatewayUrl: string;
  apiKey: string;
  gatewaySeed: string;
  meters: {
    meshgate: CpuMeter;
    bare: CpuMeter;
    agent: CpuMeter;
    sessionAgent: CpuMeter;
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

function pidOf(gateway: Gateway, what: string): number {
  if (gateway.pid === undefined)
    throw new Error(`cannot find the workerd process of the ${what} (CPU accounting needs Linux /proc)`);
  return gateway.pid;
}

export async function startStack(opts: StackOptions, progress: (line: string) => void): Promise<Stack> {
  const sink = logSinks();
  const backend = spawnBackend(opts, sink("sim-backend"));
  const backendUrl = (await backend.waitForLine(/listening on (http:\/\/\S+)/))[1] ?? "";
  progress(`sim backend     ${backendUrl} (pid ${backend.pid})`);

  // The bare Worker first: both builds write .meshgate/build/worker.js, and the one left there should be Meshgate's.
  const bare = await startBareWorker(backendUrl, sink("bare-worker"));
  progress(`bare Worker     ${bare.url} (workerd pid ${bare.pid ?? "?"})`);

  const vars = generateDevVars();
  const gateway = await startGateway({
    vars,
    sink: sink("gateway"),
    ...(opts.inspectorPort ? { inspectorPort: opts.inspectorPort } : {}),
  });
  progress(`Meshgate        ${gateway.url} (workerd pid ${gateway.pid ?? "?"})`);
  const { key: apiKey } = await createApiKey(gateway.url, vars.ADMIN_TOKEN, "bench");

  const agent = await startNodeAgent({
    name: "node-agent",
    gatewayUrl: gateway.url,
    upstreamUrl: backendUrl,
    keyFile: join(BENCH_DIR, "node-key.json"),
    // Well above the bench's concurrency: the gateway adds its own in-flight count to the one the node reports.
    capacity: 1000,
    sink: sink("node-agent"),
  });
  await waitForNode(gateway.url, agent.nodeId);
  progress(`node agent      ${agent.url} (pid ${agent.process.pid}), registered as ${agent.nodeId}`);
  const session = await startNodeAgent({
    name: "session-agent",
    gatewayUrl: gateway.url,
    upstreamUrl: backendUrl,
    keyFile: join(BENCH_DIR, "session-node-key.json"),
    session: true,
    models: [PAIR_MODEL],
    capacity: 1000,
    sink: sink("session-agent"),
  });
  await waitForNode(gateway.url, session.nodeId);
  progress(`session agent   no port (pid ${session.process.pid}), session open as ${session.nodeId}`);

  return {
    backendUrl,
    agentUrl: agent.url,
    agentNodeId: agent.nodeId,
    sessionNodeId: session.nodeId,
    bareUrl: bare.url,
    gatewayUrl: gateway.url,
    apiKey,
    gatewaySeed: vars.GATEWAY_SIGNING_KEY,
    meters: {
      meshgate: processMeter("workerd Meshgate", pidOf(gateway, "gateway")),
      bare: processMeter("workerd bare", pidOf(bare, "bare Worker")),
      agent: groupMeter("node agent", agent.process.pid),
      sessionAgent: groupMeter("session agent", session.process.pid),
      backend: groupMeter("sim backend", backend.pid),
      client: selfMeter("bench client"),
    },
  };
}

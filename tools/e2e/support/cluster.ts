// A whole local mesh for one test file: the gateway under workerd, one simulated backend, and real node agents in
// front of it, all registered, plus a fresh API key and an OpenAI SDK client pointed at the gateway.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { createApiKey } from "../../gateway/admin.js";
import { generateDevVars } from "../../gateway/dev-vars.js";
import { startGateway, type Gateway } from "../../gateway/gateway.js";
import { waitForNode } from "../../gateway/nodes.js";
import { startNodeAgent, type NodeAgent } from "../../processes/index.js";
import { startSimBackend, type SimBackend, type SimBackendOptions } from "@meshgate/sim-backend";
import { quietSink, recentOutput } from "./quiet.js";

export const CHAT_MODEL = "sim-small";
/**
 * How agents are reached: dialled at their URL, or through the session they dialled in on. Suites that must hold for
 * both run once per transport (`describe.each(TRANSPORTS)`).
 */
export const TRANSPORTS = ["direct", "session"] as const;
export type Transport = (typeof TRANSPORTS)[number];
export const EMBED_MODEL = "sim-embed";

export interface Cluster {
  gateway: Gateway;
  /** A scratch directory removed with the cluster (key files, logs). */
  scratch: string;
  adminToken: string;
  /** The gateway's secrets and vars: a restarted gateway given them keeps its keys and admin token. */
  vars: Record<string, string>;
  /** The backend behind the first agent: the one every agent shares unless `nodes` gave each its own. */
  backend: SimBackend;
  /** The backend behind each agent, in the order of `agents` (the same object repeated when shared). */
  backends: SimBackend[];
  agents: NodeAgent[];
  apiKey: string;
  client: OpenAI;
  /** A client for the same gateway with another key. */
  clientWithKey(apiKey: string): OpenAI;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  agents: number;
  /** Names the API key and scratch directory. */
  name: string;
  /** Concurrent requests each agent accepts (the agent's default when absent). */
  capacity?: number;
  /** Fire the gateway's Cron Triggers (health probes) this often; never by default (see startGateway). */
  probeIntervalMs?: number;
  /**
   * One entry per agent (as many as `agents`): each agent then gets a simulated backend of its own with these
   * settings, so nodes can differ in speed and reliability and each backend's stats show that node's traffic alone.
   */
  nodes?: NodeSpec[];
  /** Extra Worker vars, e.g. FIRST_TOKEN_TIMEOUT_MS (the generated secrets are kept). */
  vars?: Record<string, string>;
  /** Agents dial the gateway over WebSocket (no listening port), as nodes behind NAT do; they listen by default. */
  session?: boolean;
  /** Serve the gateway from this many isolates sharing its Durable Objects (tools/gateway/isolates.ts); default 1. */
  isolates?: number;
}

/** An agent and the backend behind it. */
export interface NodeSpec {
  latencyMs?: number;
  /** The backend's prefill: extra delay per KiB of request body before it answers. */
  prefillMsPerKiB?: number;
  tokenIntervalMs?: number;
  failRate?: number;
  hangRate?: number;
  /**
   * The backend's dice for failRate and hangRate (Math.random when absent), e.g. to fail exactly every other request.
   */
  random?: () => number;
  /** Concurrent requests the agent accepts (ClusterOptions.capacity, else the agent's default, when absent). */
  capacity?: number;
  /** The backend reports no usage, even when asked (as some older servers do). */
  omitUsage?: boolean;
  /**
   * The backend's context length: reported as vLLM's max_model_len (so the agent advertises it) and enforced as vLLM
   * does.
   */
  contextLength?: number;
  /** The agent's prices per model (micro-units per million tokens); free when absent. */
  prices?: Record<string, { prompt: number; completion: number }>;
  /** The backend serves POST /v1/responses natively and the agent says so (`--responses-api`). */
  responsesApi?: boolean;
}

function backendOptions(spec: NodeSpec): SimBackendOptions {
  const { capacity: _capacity, prices: _prices, ...backend } = spec;
  return backend;
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  if (opts.nodes && opts.nodes.length !== opts.agents)
    throw new Error(`${opts.nodes.length} node specs for ${opts.agents} agents`);
  const scratch = mkdtempSync(join(tmpdir(), `meshgate-e2e-${opts.name}-`));
  const vars = { ...generateDevVars(), ...opts.vars };
  const specs: (NodeSpec | null)[] = opts.nodes ?? Array.from({ length: opts.agents }, () => null);
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    // Agents first, so none heartbeats to or is dispatched from a gateway that is going away.
    for (const s of stops.reverse()) await s().catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    const gateway = await startGateway({
      vars,
      sink: quietSink("gateway"),
      ...(opts.probeIntervalMs === undefined ? {} : { probeIntervalMs: opts.probeIntervalMs }),
      ...(opts.isolates === undefined ? {} : { isolates: opts.isolates }),
    });
    stops.push(() => gateway.stop());
    const startBackend = async (name: string, spec: NodeSpec): Promise<SimBackend> => {
      const started = await startSimBackend({
        models: [CHAT_MODEL, EMBED_MODEL],
        log: quietSink(name),
        ...backendOptions(spec),
      });
      stops.push(() => started.close());
      return started;
    };
    const shared = opts.nodes ? null : await startBackend("sim-backend", {});
    const backends = await Promise.all(
      specs.map((spec, i) => shared ?? startBackend(`sim-backend-${i + 1}`, spec ?? {})),
    );
    const agents = await Promise.all(
      specs.map((spec, i) => {
        const capacity = spec?.capacity ?? opts.capacity;
        return startNodeAgent({
          name: `agent-${i + 1}`,
          gatewayUrl: gateway.url,
          upstreamUrl: backends[i]!.url,
          keyFile: join(scratch, `agent-${i + 1}.key`),
          sink: quietSink(`agent-${i + 1}`),
          ...(capacity === undefined ? {} : { capacity }),
          ...(spec?.prices ? { prices: spec.prices } : {}),
          ...(spec?.responsesApi ? { responsesApi: true } : {}),
          ...(opts.session ? { session: true } : {}),
        });
      }),
    );
    for (const agent of agents) stops.push(() => agent.process.stop());
    await Promise.all(agents.map((a) => waitForNode(gateway.url, a.nodeId)));
    const { key } = await createApiKey(gateway.url, vars.ADMIN_TOKEN, `e2e-${opts.name}`);
    // No SDK retries: a request that succeeds must have succeeded at the gateway, not on the client's second try.
    const clientWithKey = (apiKey: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
    const backend = backends[0];
    if (!backend) throw new Error("a cluster needs at least one agent");
    return {
      gateway,
      scratch,
      adminToken: vars.ADMIN_TOKEN,
      vars,
      backend,
      backends,
      agents,
      apiKey: key,
      client: clientWithKey(key),
      clientWithKey,
      stop,
    };
  } catch (err) {
    await stop();
    // The processes' output is kept quiet while things work; when they do not, it is the first thing to read.
    throw new Error(`${err instanceof Error ? err.message : String(err)}\nRecent output:\n${recentOutput()}`, {
      cause: err,
    });
  }
}

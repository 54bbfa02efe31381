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
import { startSimBackend, type SimBackend } from "@meshgate/sim-backend";
import { quietSink, recentOutput } from "./quiet.js";

export const CHAT_MODEL = "sim-small";
export const EMBED_MODEL = "sim-embed";

export interface Cluster {
  gateway: Gateway;
  adminToken: string;
  backend: SimBackend;
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
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const scratch = mkdtempSync(join(tmpdir(), `meshgate-e2e-${opts.name}-`));
  const vars = generateDevVars();
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    // Agents first, so none heartbeats to or is dispatched from a gateway that is going away.
    for (const s of stops.reverse()) await s().catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    const gateway = await startGateway({ vars, sink: quietSink("gateway") });
    stops.push(() => gateway.stop());
    const backend = await startSimBackend({ models: [CHAT_MODEL, EMBED_MODEL], log: quietSink("sim-backend") });
    stops.push(() => backend.close());
    const agents = await Promise.all(
      Array.from({ length: opts.agents }, (_, i) =>
        startNodeAgent({
          name: `agent-${i + 1}`,
          gatewayUrl: gateway.url,
          upstreamUrl: backend.url,
          keyFile: join(scratch, `agent-${i + 1}.key`),
          sink: quietSink(`agent-${i + 1}`),
          ...(opts.capacity === undefined ? {} : { capacity: opts.capacity }),
        }),
      ),
    );
    for (const agent of agents) stops.push(() => agent.process.stop());
    await Promise.all(agents.map((a) => waitForNode(gateway.url, a.nodeId)));
    const { key } = await createApiKey(gateway.url, vars.ADMIN_TOKEN, `e2e-${opts.name}`);
    // No SDK retries: a request that succeeds must have succeeded at the gateway, not on the client's second try.
    const clientWithKey = (apiKey: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
    return { gateway, adminToken: vars.ADMIN_TOKEN, backend, agents, apiKey: key, client: clientWithKey(key), clientWithKey, stop };
  } catch (err) {
    await stop();
    // The processes' output is kept quiet while things work; when they do not, it is the first thing to read.
    throw new Error(`${err instanceof Error ? err.message : String(err)}\nRecent output:\n${recentOutput()}`, { cause: err });
  }
}

// The demo node of `npm start` and `npm run dev`: a SIMULATED backend (in this process) and one real node agent in
// front of it, registered with the gateway, so the gateway can answer at once.
import { join } from "node:path";
import { DEFAULT_SIM_MODELS, startSimBackend } from "@meshgate/sim-backend";
import { waitForNode } from "../gateway/nodes.js";
import { onShutdown, prefixedSink, startNodeAgent } from "../processes/index.js";

export interface DemoNode {
  nodeId: string;
  backendUrl: string;
  models: readonly string[];
}

/** Starts both and resolves once the gateway lists the node; the agent's key is kept in `stateDir`. */
export async function startDemoNode(
  gatewayUrl: string,
  stateDir: string,
  say: (line: string) => void,
): Promise<DemoNode> {
  const backend = await startSimBackend({ models: DEFAULT_SIM_MODELS, log: prefixedSink("sim-backend") });
  onShutdown(() => backend.close());
  const agent = await startNodeAgent({
    name: "node-agent",
    gatewayUrl,
    upstreamUrl: backend.url,
    keyFile: join(stateDir, "node-agent.key"),
    // A price, so the demo's usage shows costs and receipts (micro-units per million prompt/completion tokens).
    prices: { "sim-small": { prompt: 100_000, completion: 300_000 }, "sim-embed": { prompt: 20_000, completion: 0 } },
  });
  say(`node agent listening on ${agent.url}; waiting for it to register`);
  await waitForNode(gatewayUrl, agent.nodeId);
  return { nodeId: agent.nodeId, backendUrl: backend.url, models: DEFAULT_SIM_MODELS };
}

// A local mesh for the load test: the gateway under workerd, one simulated backend and one real node agent per node
// (each with its own price), an API key with limits (so every request takes the reservation round trip), and the
// means to kill an agent (SIGKILL) and start it again with the same key and receipt log.
import { mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Price } from "@meshgate/schemas";
import { startSimBackend, type SimBackend } from "@meshgate/sim-backend";
import { createApiKey } from "../gateway/admin.js";
import { generateDevVars } from "../gateway/dev-vars.js";
import { startGateway, type Gateway } from "../gateway/gateway.js";
import { waitForNode } from "../gateway/nodes.js";
import { startNodeAgent, type LineSink, type NodeAgent } from "../processes/index.js";

export const MODEL = "sim-small";

export interface MeshNode {
  agent: NodeAgent;
  backend: SimBackend;
  price: Price;
  receiptLog: string;
}

export interface Mesh {
  gateway: Gateway;
  adminToken: string;
  nodes: MeshNode[];
  /** A fresh API key with a budget and rate limits far above what the run needs. */
  newKey(name: string): Promise<string>;
  /** SIGKILL node `i`'s agent; `restart` brings it back with the same identity, prices and receipt log. */
  kill(i: number): Promise<void>;
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

export interface MeshOptions {
  name: string;
  dir: string;
  nodes: number;
  vars: Record<string, string>;
  backendLatencyMs: number;
  tokenIntervalMs: number;
}

function fileSink(path: string): (name: string) => LineSink {
  const fd = openSync(path, "a");
  return (name) => (line) => void writeSync(fd, `[${name}] ${line}\n`);
}

/** Node i's price: different per node, so the ledger check catches a cost computed at the wrong node's price. */
export function priceOf(i: number): Price {
  return { prompt: 1_000_000 * (i + 1), completion: 3_000_000 * (i + 1) };
}

export async function startMesh(opts: MeshOptions): Promise<Mesh> {
  mkdirSync(opts.dir, { recursive: true });
  const sink = fileSink(join(opts.dir, `${opts.name}.log`));
  const vars = { ...generateDevVars(), ...opts.vars };
  const gateway = await startGateway({ vars, sink: sink("gateway") });
  const nodes: MeshNode[] = [];
  const stopAll = async () => {
    for (const n of nodes) await n.agent.process.stop().catch(() => {});
    for (const n of nodes) await n.backend.close().catch(() => {});
    await gateway.stop();
  };
  const startAgent = (i: number, backend: SimBackend) =>
    startNodeAgent({
      name: `${opts.name}-agent-${i + 1}`,
      gatewayUrl: gateway.url,
      upstreamUrl: backend.url,
      keyFile: join(opts.dir, `${opts.name}-agent-${i + 1}.key`),
      receiptLog: join(opts.dir, `${opts.name}-agent-${i + 1}.receipts.jsonl`),
      prices: { [MODEL]: priceOf(i) },
      capacity: 64,
      sink: sink(`agent-${i + 1}`),
    });
  try {
    for (let i = 0; i < opts.nodes; i++) {
      const backend = await startSimBackend({
        models: [MODEL],
        latencyMs: opts.backendLatencyMs,
        tokenIntervalMs: opts.tokenIntervalMs,
        log: sink(`backend-${i + 1}`),
      });
      const agent = await startAgent(i, backend);
      nodes.push({
        agent,
        backend,
        price: priceOf(i),
        receiptLog: join(opts.dir, `${opts.name}-agent-${i + 1}.receipts.jsonl`),
      });
      await waitForNode(gateway.url, agent.nodeId);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    gateway,
    adminToken: vars.ADMIN_TOKEN,
    nodes,
    newKey: async (name) =>
      (
        await createApiKey(gateway.url, vars.ADMIN_TOKEN, name, {
          budget: 10 ** 15,
          rpm: 1_000_000,
          tpm: 1_000_000_000,
        })
      ).key,
    kill: async (i) => {
      const node = nodes[i];
      if (!node) return;
      node.agent.process.kill("SIGKILL");
      await node.agent.process.exited;
    },
    restart: async (i) => {
      const node = nodes[i];
      if (!node) return;
      node.agent = await startAgent(i, node.backend);
      await waitForNode(gateway.url, node.agent.nodeId);
    },
    stop: stopAll,
  };
}

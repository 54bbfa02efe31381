// A small mesh with some traffic, for the pages' browser test and their screenshots: the local gateway, two priced
// node agents (real processes) in front of simulated backends, an API key, and requests through the gateway.
import { CHAT_MODEL, EMBED_MODEL, startCluster, type Cluster } from "../e2e/support/cluster.js";
import { usageOnceRecorded } from "../e2e/support/usage.js";

/** Micro-units per million tokens, so the usage page has spend to show. */
const PRICES = {
  [CHAT_MODEL]: { prompt: 200_000, completion: 600_000 },
  [EMBED_MODEL]: { prompt: 20_000, completion: 0 },
};

export function startPagesCluster(name: string): Promise<Cluster> {
  return startCluster({ agents: 2, name, nodes: [{ prices: PRICES }, { prices: PRICES, latencyMs: 20 }] });
}

/** `chats` chat completions and one embedding with the cluster's key; resolves once the ledger holds them all. */
export async function sendTraffic(cluster: Cluster, chats: number): Promise<void> {
  for (let i = 0; i < chats; i++) {
    await cluster.client.chat.completions.create({
      model: CHAT_MODEL,
      messages: [{ role: "user", content: `Say something about the number ${i}.` }],
    });
  }
  await cluster.client.embeddings.create({ model: EMBED_MODEL, input: "a few words to embed" });
  await usageOnceRecorded(cluster.gateway.url, cluster.apiKey, chats + 1);
}

// A listening node (a public URL) whose liveness rides a session: real agents started with --listen keep being
// dispatched to directly at their proven URL, while, once that URL is proven, their heartbeats stop reaching the
// gateway's one registry — the session carries their liveness at no cost. Killed, such a node leaves routing.
import { NODE_TTL_MS } from "@meshgate/schemas";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listNodes } from "../gateway/nodes.js";
import { pollUntil } from "../processes/index.js";
import { startCluster, type Cluster } from "./support/cluster.js";
import { routedChat } from "./support/routed.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

describe("a listening node live through a session", E2E, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, name: "hybrid" });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await cluster?.stop();
  }, SETUP_TIMEOUT_MS);

  it("is listed as dialled at its URL, and answers there", async () => {
    const nodes = await listNodes(cluster.gateway.url);
    for (const agent of cluster.agents) {
      expect(nodes.find((n) => n.id === agent.nodeId)).toMatchObject({ transport: "direct", url: agent.url });
      const answer = await routedChat(cluster.client, { extra: { provider: { only: [agent.nodeId] } } });
      expect(answer.node).toBe(agent.nodeId);
      expect(answer.text).not.toBe("");
    }
  });

  it("stops heartbeating once its URL is proven, and stays listed and served past the heartbeat TTL", async () => {
    const [agent] = cluster.agents;
    if (!agent) throw new Error("the cluster needs an agent");
    await agent.process.waitForLine(/heartbeats paused/, 30_000);
    // A heartbeat already on its way when they paused still lands, and the node list may be a second stale (and is
    // refreshed behind the read that finds it so).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await listNodes(cluster.gateway.url);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const lastHeartbeat = async (): Promise<string | undefined> =>
      (await listNodes(cluster.gateway.url)).find((n) => n.id === agent.nodeId)?.last_heartbeat;
    const paused = await lastHeartbeat();
    expect(paused).toBeDefined();
    // Three heartbeat intervals would have come by now, and the TTL since the last one would have passed.
    const watchMs = NODE_TTL_MS + 3_000;
    const started = Date.now();
    const seen = new Set<string | undefined>();
    while (Date.now() - started < watchMs) {
      seen.add(await lastHeartbeat());
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect([...seen], "last_heartbeat of the node over the watch").toEqual([paused]);
    expect((await listNodes(cluster.gateway.url)).find((n) => n.id === agent.nodeId)).toMatchObject({
      transport: "direct",
      url: agent.url,
    });
    for (const stream of [false, true]) {
      const answer = await routedChat(cluster.client, { stream, extra: { provider: { only: [agent.nodeId] } } });
      expect(answer.node).toBe(agent.nodeId);
      expect(answer.text).not.toBe("");
    }
  });

  it("leaves routing when killed", async () => {
    const agent = cluster.agents[1];
    if (!agent) throw new Error("the cluster needs two agents");
    await agent.process.waitForLine(/heartbeats paused/, 30_000);
    agent.process.kill("SIGKILL");
    const killedAt = Date.now();
    await pollUntil(
      async () => ((await listNodes(cluster.gateway.url)).some((n) => n.id === agent.nodeId) ? undefined : true),
      { what: "the killed node to leave the node list", timeoutMs: NODE_TTL_MS + 10_000, intervalMs: 200 },
    );
    console.log(`killed node unlisted after ${Date.now() - killedAt} ms`);
    // Requests go to the other node, with no client error.
    for (let i = 0; i < 4; i++) {
      const answer = await routedChat(cluster.client);
      expect(answer.node).toBe(cluster.agents[0]?.nodeId);
    }
  });
});

// A node that dies is routed around: until its heartbeats time out the gateway still lists it, and a request that
// tries it first moves on to the next node before anything reaches the client.
// The requests name the dead node first (`provider.order`): left to itself the router compares both nodes on every
// request and may never pick the dead one, and this test is about what happens when it does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listNodes } from "../gateway/nodes.js";
import { pollUntil } from "../processes/index.js";
import { startCluster, type Cluster } from "./support/cluster.js";
import { routedChat } from "./support/routed.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

const MAX_REQUESTS = 10;

describe("failover between nodes", E2E, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, name: "failover" });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it("keeps answering after one node agent is killed", async () => {
    const [doomed, survivor] = cluster.agents;
    if (!doomed || !survivor) throw new Error("the cluster needs two agents");
    doomed.process.kill("SIGKILL");
    await doomed.process.exited;
    expect((await listNodes(cluster.gateway.url)).map((n) => n.id)).toContain(doomed.nodeId);

    let requests = 0;
    let failedOver = 0;
    while (failedOver === 0 && requests < MAX_REQUESTS) {
      const answer = await routedChat(cluster.client, {
        stream: requests % 2 === 1,
        extra: { provider: { order: [doomed.nodeId] } },
      });
      expect(answer.text).not.toBe("");
      expect(answer.node).toBe(survivor.nodeId);
      if (answer.attempts === 2) failedOver++;
      requests++;
    }
    expect(failedOver, `none of ${requests} requests tried the dead node first`).toBeGreaterThan(0);
  });

  it("drops the dead node from the node list once its heartbeats time out", async () => {
    const doomed = cluster.agents[0];
    await pollUntil(
      async () => ((await listNodes(cluster.gateway.url)).some((n) => n.id === doomed?.nodeId) ? undefined : true),
      {
        what: "the killed node to leave /v1/nodes",
        timeoutMs: 45_000,
      },
    );
    const nodes = await listNodes(cluster.gateway.url);
    expect(nodes.map((n) => n.id)).toEqual([cluster.agents[1]?.nodeId]);
  });
});

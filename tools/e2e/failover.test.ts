// A node that dies is routed around: until its heartbeats time out the gateway still lists it, and a request that
// tries it first moves on to the next node before anything reaches the client.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listNodes } from "../gateway/nodes.js";
import { pollUntil } from "../processes/index.js";
import { CHAT_MODEL, startCluster, type Cluster } from "./support/cluster.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

/** Requests are routed randomly between equal nodes, so each has even odds of trying the dead one first. */
const MAX_REQUESTS = 60;

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
      const stream = requests % 2 === 1;
      const messages = [{ role: "user" as const, content: `request ${requests}` }];
      const { data, response } = await cluster.client.chat.completions.create({ model: CHAT_MODEL, messages, stream }).withResponse();
      let text = "";
      if ("choices" in data) text = data.choices[0]?.message.content ?? "";
      else for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? "";
      expect(text).not.toBe("");
      expect(response.headers.get("x-meshgate-node")).toBe(survivor.nodeId);
      if (response.headers.get("x-meshgate-attempts") === "2") failedOver++;
      requests++;
    }
    expect(failedOver, `none of ${requests} requests tried the dead node first`).toBeGreaterThan(0);
  });

  it("drops the dead node from the node list once its heartbeats time out", async () => {
    const doomed = cluster.agents[0];
    await pollUntil(async () => ((await listNodes(cluster.gateway.url)).some((n) => n.id === doomed?.nodeId) ? undefined : true), {
      what: "the killed node to leave /v1/nodes",
      timeoutMs: 45_000,
    });
    const nodes = await listNodes(cluster.gateway.url);
    expect(nodes.map((n) => n.id)).toEqual([cluster.agents[1]?.nodeId]);
  });
});

// Nodes that misbehave in front of real agents: one failing every other request loses its traffic; one that accepts
// requests and never answers is abandoned after one first-token timeout, streamed or not, and the client still gets
// an answer from another node. (When timeouts eject such a node: unaimable-ejection.test.ts.)
// Each scenario has a mesh of its own, because the router ejects at most a third of a model's nodes at once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listNodes } from "../gateway/nodes.js";
import { startCluster, type Cluster } from "./support/cluster.js";
import { routedChat, type RoutedAnswer } from "./support/routed.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

const FIRST_TOKEN_TIMEOUT_MS = 1_500;
/** Far longer than the first-token timeout: a non-streamed request must not wait for it (it did, before issue 12). */
const ANSWER_TIMEOUT_MS = 30_000;

/** Fails exactly every other draw: "half its requests", without a run where luck spares it. */
function everyOther(): () => number {
  let n = 0;
  return () => (n++ % 2 === 0 ? 0.99 : 0);
}

async function reputations(cluster: Cluster): Promise<Map<string, number>> {
  return new Map((await listNodes(cluster.gateway.url)).map((n) => [n.id, n.reputation]));
}

describe("a node failing half its requests", E2E, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({
      agents: 3,
      name: "half-failing",
      nodes: [{ latencyMs: 20, failRate: 0.5, random: everyOther() }, { latencyMs: 20 }, { latencyMs: 20 }],
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it("loses its traffic to the healthy nodes, and no client sees its failures", async () => {
    const ids = cluster.agents.map((a) => a.nodeId);
    const [flaky, ...healthy] = ids;
    const [flakyBackend, ...healthyBackends] = cluster.backends;
    if (!flaky || !flakyBackend || healthy.length !== 2) throw new Error("the cluster needs three agents");

    // Every node gets the same share of traffic first (the client asks for each in turn), so in what follows the
    // router can tell them apart only by how they answered, not by which it happened to try first.
    const introduced: RoutedAnswer[] = [];
    for (let i = 0; i < 30; i++)
      introduced.push(
        await routedChat(cluster.client, { stream: i % 2 === 1, extra: { provider: { order: [ids[i % 3]] } } }),
      );
    expect(introduced.every((a) => a.text !== "")).toBe(true);
    // Not vacuous: the flaky node was reached and did fail, and its failures were hidden from the clients by failover.
    expect(flakyBackend.stats().failed).toBeGreaterThan(0);
    expect(introduced.some((a) => a.attempts === 2)).toBe(true);

    const before = cluster.backends.map((b) => b.stats().requests);
    const answers: RoutedAnswer[] = [];
    for (let i = 0; i < 60; i++) answers.push(await routedChat(cluster.client, { stream: i % 2 === 1 }));
    const received = cluster.backends.map((b, i) => b.stats().requests - (before[i] ?? 0));
    const reps = await reputations(cluster);
    const summary = `received [flaky, healthy, healthy]: ${received.join(", ")}; reputations: ${ids.map((id) => reps.get(id)).join(", ")}`;

    expect(answers.every((a) => a.text !== "")).toBe(true);
    // An even split would give it 20; it gets at most a tenth of the requests.
    expect(received[0] ?? 0, summary).toBeLessThanOrEqual(answers.length / 10);
    for (const id of healthy) expect(reps.get(flaky) ?? 1, summary).toBeLessThan(reps.get(id) ?? 0);
    expect(healthyBackends.every((b) => b.stats().failed === 0)).toBe(true);
  });
});

describe("a node that accepts requests and never answers", E2E, () => {
  let cluster: Cluster;
  const hangs = () => cluster.backends[0]?.stats().requests ?? 0;
  const hanging = () => cluster.agents[0]?.nodeId ?? "";
  const preferHanging = () => ({ provider: { order: [hanging()] } });

  beforeAll(async () => {
    cluster = await startCluster({
      agents: 3,
      name: "hanging",
      nodes: [{ latencyMs: 20, hangRate: 1 }, { latencyMs: 20 }, { latencyMs: 20 }],
      vars: { FIRST_TOKEN_TIMEOUT_MS: String(FIRST_TOKEN_TIMEOUT_MS), ANSWER_TIMEOUT_MS: String(ANSWER_TIMEOUT_MS) },
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it("is abandoned after one first-token timeout, streamed or not, and another node answers", async () => {
    // Other clients keep the gateway's node snapshot fresh meanwhile (any request refreshes a snapshot over a
    // second old), as steady traffic would in production.
    let waiting = true;
    const otherTraffic = (async () => {
      while (waiting) {
        await listNodes(cluster.gateway.url);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    // Both go to the node the client asks for first.
    const [streamed, whole] = await Promise.all([
      routedChat(cluster.client, { stream: true, extra: preferHanging() }),
      routedChat(cluster.client, { stream: false, extra: preferHanging() }),
    ]).finally(() => (waiting = false));
    await otherTraffic;

    expect(hangs()).toBe(2);
    for (const a of [streamed, whole]) {
      expect(a.text).not.toBe("");
      expect(a.node).not.toBe(hanging());
      expect(a.attempts).toBe(2);
      // The failed attempt lasted the first-token timeout: never less (the gateway waited as configured), and far
      // from the answer timeout a whole answer used to be given.
      expect([...a.timing.keys()]).toEqual(["gateway", "admit", "failover", "node"]);
      expect(a.timing.get("failover") ?? 0).toBeGreaterThanOrEqual(FIRST_TOKEN_TIMEOUT_MS - 1);
      expect(a.elapsedMs).toBeGreaterThanOrEqual(FIRST_TOKEN_TIMEOUT_MS);
      expect(a.elapsedMs).toBeLessThan(ANSWER_TIMEOUT_MS / 2);
    }
  });
});

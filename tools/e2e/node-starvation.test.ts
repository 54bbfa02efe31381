// A rival starving a node through its public URL (every node's URL is listed in GET /v1/nodes): it keeps 72 sockets
// open to a real agent of capacity 64 — requests whose body is held back or dribbled, unsigned or with signatures
// that cannot be valid, and headers that never end. None of them is the gateway's, so none is load: the node stays
// listed with no load (its liveness rides its session, its heartbeats paused), the gateway keeps routing to it
// (requests pinned to it included), and the agent closes every such socket within seconds instead of holding it for
// minutes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GatewayMetadata } from "@meshgate/schemas";
import { listNodes } from "../gateway/nodes.js";
import { pollUntil } from "../processes/index.js";
import { startCluster, type Cluster } from "./support/cluster.js";
import { routedChat } from "./support/routed.js";
import { startStrangerFlood, type StrangerFlood } from "./support/stranger-sockets.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

const CAPACITY = 64;
/** More sockets than the node has slots, of every kind. */
const PLAN = { unsigned: 24, forged: 20, stale: 8, "unknown-key": 8, "slow-headers": 12 } as const;
/** Generous against the agent's few seconds; the stock Node server holds such sockets for 60 to 300 s. */
const CLOSED_WITHIN_MS = 20_000;

/**
 * The attacked node as the gateway lists it, `count` times at least `everyMs` apart. Its heartbeats paused once its URL
 * was proven (its session carries its liveness), so what is checked is what the gateway routes by: that the node stays
 * listed, dialled at its URL, with no load. (That the agent counts no stranger's socket as load, which its heartbeats
 * report while they run, is checked in node-agent's strangers.test.ts.)
 */
async function listedDuringFlood(
  cluster: Cluster,
  nodeId: string,
  count: number,
  everyMs: number,
): Promise<({ transport: string; in_flight: number } | "not listed")[]> {
  const seen: ({ transport: string; in_flight: number } | "not listed")[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, everyMs));
    const node = (await listNodes(cluster.gateway.url)).find((n) => n.id === nodeId);
    seen.push(node ? { transport: node.transport, in_flight: node.in_flight } : "not listed");
  }
  return seen;
}

describe("a rival holding half-sent requests open to a node's public URL", E2E, () => {
  let cluster: Cluster;
  let flood: StrangerFlood | undefined;
  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, name: "node-starvation", capacity: CAPACITY });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    flood?.destroy();
    await cluster?.stop();
  }, SETUP_TIMEOUT_MS);

  it(
    "does not take its slots: the node stays listed with no load, pinned requests are served, and the agent " +
      "closes every socket within seconds",
    async () => {
      const victim = cluster.agents[0];
      if (!victim) throw new Error("the cluster needs an agent");
      const metadata = (await (
        await fetch(`${cluster.gateway.url}/.well-known/meshgate.json`)
      ).json()) as GatewayMetadata;
      const gatewayKeyId = metadata.keys[0]?.kid ?? "";
      const inPlay = Object.values(PLAN).reduce((a, b) => a + b, 0);
      flood = startStrangerFlood({
        url: victim.url,
        nodeId: victim.nodeId,
        gatewayKeyId,
        plan: PLAN,
        dribbleEveryMs: 500,
        reopenAfterMs: 250,
      });
      await pollUntil(() => (flood!.lives().length >= inPlay ? true : undefined), {
        what: `${inPlay} stranger sockets to be opened`,
        timeoutMs: 10_000,
      });

      // (a) What the gateway sees: the node stays live and listed at its URL, with no load, through the flood.
      await victim.process.waitForLine(/heartbeats paused/, 30_000);
      const listed = await listedDuringFlood(cluster, victim.nodeId, 4, 1_500);
      expect
        .soft(listed, "the attacked node as listed during the flood")
        .toEqual(Array(4).fill({ transport: "direct", in_flight: 0 }));

      // Requests only the attacked node may serve are served by it, streamed or not, while the flood goes on.
      const outcomes: string[] = [];
      for (let i = 0; i < 6; i++) {
        const outcome = await routedChat(cluster.client, {
          stream: i % 2 === 1,
          extra: { provider: { only: [victim.nodeId] } },
        }).then(
          (a) => (a.node === victim.nodeId && a.text !== "" ? "served" : `answered by ${a.node}: "${a.text}"`),
          (err: unknown) => `failed: ${err instanceof Error ? err.message : String(err)}`,
        );
        outcomes.push(outcome);
      }
      expect.soft(outcomes, "requests pinned to the attacked node").toEqual(Array(6).fill("served"));
      const open = flood.open();

      // (b) Every stranger socket is closed by the agent within seconds of being opened (the test never closes one).
      flood.stopReopening();
      await pollUntil(() => (flood!.open() === 0 ? true : undefined), {
        what: `the agent to close the ${flood.open()} stranger sockets still open (${open} were open during the pinned requests)`,
        timeoutMs: CLOSED_WITHIN_MS,
        intervalMs: 200,
      });
      const lives = flood.lives();
      const longest = Math.max(...lives.map((l) => (l.closedAt ?? Date.now()) - l.openedAt));
      expect(longest, `longest-lived of ${lives.length} stranger sockets`).toBeLessThan(CLOSED_WITHIN_MS);
      // Not vacuous: every kind was tried, and the requests with whole headers were refused as unauthenticated.
      for (const kind of Object.keys(PLAN)) expect(lives.some((l) => l.kind === kind)).toBe(true);
      const refusedAs = new Set(lives.filter((l) => l.kind !== "slow-headers").map((l) => l.status));
      expect([...refusedAs]).toEqual(["HTTP/1.1 401 Unauthorized"]);
    },
  );
});

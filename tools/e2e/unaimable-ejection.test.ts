// Nobody ejects a node by choice (issue 12, review finding 10). Before, a first-token timeout ejected its node at once:
// a client could pin any node (`provider.only` / `order`) and send a prompt whose prefill outlasts the timeout, and
// the node was gone for everyone; unpinned, failover spread the same over several nodes. Here real agents sit in
// front of simulated backends whose prefill honestly grows with the prompt, or that hang outright, and:
// - a hostile client pinning a healthy node with long prompts leaves it in rotation, streamed or not;
// - an unpinned long prompt that fails over ejects no node (and stops after its second timeout);
// - a long prompt gets a longer first-token deadline, so an honest node's prefill of it is not a timeout;
// - a node that really hangs is still ejected, by ordinary requests the gateway routed, from two API keys.
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../gateway/admin.js";
import { startCluster, type Cluster } from "./support/cluster.js";
import { routedChat, type RoutedAnswer } from "./support/routed.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

const FIRST_TOKEN_TIMEOUT_MS = 1_500;
/** The whole-answer timeout, which also caps a long prompt's first-token deadline (~6 s for 32 KiB otherwise). */
const ANSWER_TIMEOUT_MS = 4_000;
/** The slow backends' prefill: ~10 s for a 32 KiB prompt. */
const PREFILL_MS_PER_KIB = 300;
const kib = (n: number) => "lorem ipsum ".repeat((n * 1024) / 12);
const LONG_PROMPT = kib(32);

interface AdminNode {
  id: string;
  routing: { ejections: number; ejected_until: string | null };
}

async function adminNodes(cluster: Cluster): Promise<AdminNode[]> {
  const res = await fetch(`${cluster.gateway.url}/admin/nodes`, {
    headers: { authorization: `Bearer ${cluster.adminToken}` },
  });
  return ((await res.json()) as { data: AdminNode[] }).data;
}

async function newClient(cluster: Cluster, name: string): Promise<OpenAI> {
  return cluster.clientWithKey((await createApiKey(cluster.gateway.url, cluster.adminToken, name)).key);
}

/** A request that fails at the gateway: its status, or 0 if it was answered after all. */
async function failedStatus(request: Promise<RoutedAnswer>): Promise<number> {
  try {
    await request;
    return 0;
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
}

/** Which node answers a request that names `nodeId` first: itself unless it is ejected (ejected nodes are skipped). */
async function answeredWhenAskedFirst(client: OpenAI, nodeId: string): Promise<{ node: string; attempts: number }> {
  const a = await routedChat(client, { stream: true, extra: { provider: { order: [nodeId] } } });
  return { node: a.node, attempts: a.attempts };
}

describe("honest nodes whose prefill grows with the prompt", E2E, () => {
  let cluster: Cluster;
  const requests = () => cluster.backends.reduce((sum, b) => sum + b.stats().requests, 0);

  beforeAll(async () => {
    const slowPrefill = { latencyMs: 20, prefillMsPerKiB: PREFILL_MS_PER_KIB };
    cluster = await startCluster({
      agents: 3,
      name: "slow-prefill",
      nodes: [slowPrefill, slowPrefill, slowPrefill],
      vars: { FIRST_TOKEN_TIMEOUT_MS: String(FIRST_TOKEN_TIMEOUT_MS), ANSWER_TIMEOUT_MS: String(ANSWER_TIMEOUT_MS) },
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it("a hostile client pinning one with long prompts does not eject it: other clients still reach it", async () => {
    const victim = cluster.agents[0]?.nodeId ?? "";
    const other = await newClient(cluster, "bystander");
    // Proven (three answers), so it takes its full capacity, not a new node's two requests at a time.
    for (let i = 0; i < 3; i++)
      expect(await answeredWhenAskedFirst(other, victim)).toEqual({ node: victim, attempts: 1 });

    const hostile = cluster.client;
    const pinned = (provider: Record<string, unknown>) =>
      failedStatus(routedChat(hostile, { stream: true, prompt: LONG_PROMPT, extra: { provider } }));
    const statuses = await Promise.all([
      pinned({ only: [victim] }),
      pinned({ only: [victim] }),
      pinned({ order: [victim] }),
    ]);
    // The hostile requests did time out (the prefill outlasts even the longer deadline a long prompt gets).
    expect(statuses).toEqual([502, 502, 502]);

    // The victim is still in rotation for everyone, in this isolate and in the registry.
    for (let i = 0; i < 3; i++)
      expect(await answeredWhenAskedFirst(other, victim)).toEqual({ node: victim, attempts: 1 });
    expect((await adminNodes(cluster)).map((n) => n.routing.ejections)).toEqual([0, 0, 0]);
  });

  it("a hostile client pinning one with whole answers that outlast the answer timeout does not eject it", async () => {
    const victim = cluster.agents[1]?.nodeId ?? "";
    const other = await newClient(cluster, "bystander-2");
    for (let i = 0; i < 3; i++)
      expect(await answeredWhenAskedFirst(other, victim)).toEqual({ node: victim, attempts: 1 });

    // Five at once: as many failures in a row as eject a node that keeps failing.
    const hostile = await newClient(cluster, "hostile-2");
    const whole = () =>
      failedStatus(
        routedChat(hostile, { stream: false, prompt: LONG_PROMPT, extra: { provider: { only: [victim] } } }),
      );
    expect(await Promise.all([whole(), whole(), whole(), whole(), whole()])).toEqual([502, 502, 502, 502, 502]);

    for (let i = 0; i < 3; i++)
      expect(await answeredWhenAskedFirst(other, victim)).toEqual({ node: victim, attempts: 1 });
    expect((await adminNodes(cluster)).map((n) => n.routing.ejections)).toEqual([0, 0, 0]);
  });

  it("an unpinned long prompt tries two nodes, then stops, and ejects neither", async () => {
    const client = await newClient(cluster, "long-prompt");
    const before = requests();
    expect(await failedStatus(routedChat(client, { stream: true, prompt: LONG_PROMPT }))).toBe(502);
    // Two timeouts: the request, not the nodes, is the likely cause; a third node would only cost another deadline.
    expect(requests() - before).toBe(2);

    for (const agent of cluster.agents)
      expect(await answeredWhenAskedFirst(client, agent.nodeId)).toEqual({ node: agent.nodeId, attempts: 1 });
    expect((await adminNodes(cluster)).map((n) => n.routing.ejections)).toEqual([0, 0, 0]);
  });
});

describe("a node that hangs", E2E, () => {
  let cluster: Cluster;
  let hanging = false;
  const hangs = () => cluster.backends[0]?.stats().requests ?? 0;
  const hung = () => cluster.agents[0]?.nodeId ?? "";
  const healthy = () => cluster.agents[1]?.nodeId ?? "";

  beforeAll(async () => {
    cluster = await startCluster({
      agents: 2,
      name: "hangs-later",
      // The first node is the faster until it starts hanging (its backend's dice: 0 hangs, 1 never does).
      // The second prefills 24 KiB in ~2.4 s: slower than the base first-token timeout, well within a 24 KiB prompt's.
      nodes: [
        { latencyMs: 0, hangRate: 1, random: () => (hanging ? 0 : 1) },
        { latencyMs: 400, prefillMsPerKiB: 100 },
      ],
      vars: { FIRST_TOKEN_TIMEOUT_MS: String(FIRST_TOKEN_TIMEOUT_MS) },
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it(
    "(first) a long prompt is given longer for its first token: an honest node's slow prefill of it is " + "answered",
    async () => {
      const client = await newClient(cluster, "long-but-fine");
      const a = await routedChat(client, { stream: true, prompt: kib(24), extra: { provider: { only: [healthy()] } } });
      expect({ node: a.node, attempts: a.attempts, text: a.text !== "" }).toEqual({
        node: healthy(),
        attempts: 1,
        text: true,
      });
      // Not vacuous: it did take longer than the base timeout.
      expect(a.elapsedMs).toBeGreaterThan(FIRST_TOKEN_TIMEOUT_MS);
    },
  );

  it(
    "is not ejected by one client pinning it, and is by ordinary requests from two keys, one " + "timeout each",
    async () => {
      const checker = await newClient(cluster, "checker");
      // Both nodes proven, the first measured much faster: the router's own choice is the first node.
      for (let i = 0; i < 3; i++) {
        expect((await answeredWhenAskedFirst(checker, hung())).node).toBe(hung());
        expect((await answeredWhenAskedFirst(checker, healthy())).node).toBe(healthy());
      }
      hanging = true;

      // One client's pinned requests time out there: its choice, so no evidence.
      const pinner = await newClient(cluster, "pinner");
      const pinned = routedChat(pinner, { stream: true, extra: { provider: { order: [hung()] } } });
      expect(await failedStatus(routedChat(pinner, { stream: true, extra: { provider: { only: [hung()] } } }))).toBe(
        502,
      );
      expect(await pinned).toMatchObject({ node: healthy(), attempts: 2 });
      const beforeCheck = hangs();
      expect(await answeredWhenAskedFirst(checker, hung())).toEqual({ node: healthy(), attempts: 2 });
      expect(hangs(), "a request naming the node first was still sent there").toBe(beforeCheck + 1);

      // Two keys' ordinary requests, routed there by the gateway, time out once each; another node answers both.
      const [a, b] = await Promise.all([
        routedChat(await newClient(cluster, "key-a"), { stream: true }),
        routedChat(await newClient(cluster, "key-b"), { stream: true }),
      ]);
      for (const answer of [a, b])
        expect({ node: answer.node, attempts: answer.attempts, text: answer.text !== "" }).toEqual({
          node: healthy(),
          attempts: 2,
          text: true,
        });

      // Ejected: even a request naming it first is not sent there, and the registry has it.
      const beforeEjected = hangs();
      for (let i = 0; i < 3; i++)
        expect(await answeredWhenAskedFirst(checker, hung())).toEqual({ node: healthy(), attempts: 1 });
      expect(hangs()).toBe(beforeEjected);
      const deadline = Date.now() + 10_000;
      let listed = (await adminNodes(cluster)).find((n) => n.id === hung());
      while (!listed?.routing.ejected_until && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        listed = (await adminNodes(cluster)).find((n) => n.id === hung());
      }
      expect(listed?.routing.ejections).toBe(1);
    },
  );
});

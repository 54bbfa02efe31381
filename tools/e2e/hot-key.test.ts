// A hot key over 4 isolates (issue 17, part B): each isolate admits the key's requests from a slice of its account
// (worker/src/billing/slices.ts) rather than one round trip each. The budget still holds exactly: 200 concurrent
// requests round-robined over the isolates against a budget of 50 worst cases never overspend it and every refusal
// is insufficient_quota; then a sequential client can spend nearly all that was left, so no slice strands it.
import { clientCost, nodeAmount, type Price } from "@meshgate/schemas";
import { PROMPT_TEMPLATE_TOKENS } from "@meshgate/worker/billing/token-bounds";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../gateway/admin.js";
import { ISOLATE_HEADER } from "../gateway/isolates.js";
import { CHAT_MODEL, startCluster, type Cluster } from "./support/cluster.js";
import { routedChat } from "./support/routed.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";
import { fetchUsage, usageOnceRecorded } from "./support/usage.js";

const PRICE: Price = { prompt: 2_000_000, completion: 8_000_000 };
/** wrangler.toml's GATEWAY_FEE_BPS, which the local gateway serves with. */
const FEE_BPS = 500;
/** Past a purse's idle give-back (1 s, key-purse.ts): every isolate has returned what it did not use. */
const IDLE_MS = 2_000;

const BODY = JSON.stringify({
  model: CHAT_MODEL,
  messages: [{ role: "user", content: "Spend my budget wisely." }],
  max_tokens: 32,
});
/** What the gateway holds per request: the whole body as prompt tokens plus the template's headroom, and the cap. */
const WORST_CASE = clientCost(
  nodeAmount({ prompt_tokens: Buffer.byteLength(BODY) + PROMPT_TEMPLATE_TOKENS, completion_tokens: 32 }, PRICE),
  FEE_BPS,
);

interface Sent {
  status: number;
  code: string | null;
  isolate: string | null;
  retryAfter: string | null;
}

async function send(cluster: Cluster, key: string): Promise<Sent> {
  const res = await fetch(`${cluster.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: BODY,
  });
  const json = (await res.json()) as { error?: { code: string } };
  return {
    status: res.status,
    code: json.error?.code ?? null,
    isolate: res.headers.get(ISOLATE_HEADER),
    retryAfter: res.headers.get("retry-after"),
  };
}

/** Sequential requests until the budget refuses even after every isolate went idle; how many were answered. */
async function spendTheRest(cluster: Cluster, key: string): Promise<number> {
  let answered = 0;
  let refusedAfterIdle = false;
  while (!refusedAfterIdle) {
    const sent = await send(cluster, key);
    if (sent.status === 200) {
      answered++;
      continue;
    }
    expect([sent.status, sent.code]).toEqual([429, "insufficient_quota"]);
    // Refused while other isolates may still hold slices: once they are idle they give them back, then try again.
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const again = await send(cluster, key);
    if (again.status === 200) answered++;
    else refusedAfterIdle = true;
  }
  return answered;
}

describe("a hot key over 4 isolates", E2E, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({
      agents: 2,
      name: "hot-key",
      isolates: 4,
      nodes: [
        { prices: { [CHAT_MODEL]: PRICE }, capacity: 256, latencyMs: 100 },
        { prices: { [CHAT_MODEL]: PRICE }, capacity: 256, latencyMs: 100 },
      ],
    });
    // New nodes get two requests at a time until they have answered a few: prove them first.
    for (const agent of cluster.agents) {
      for (let i = 0; i < 4; i++)
        await routedChat(cluster.client, { extra: { provider: { order: [agent.nodeId], allow_fallbacks: false } } });
    }
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it("never overspends a budget of 50 worst cases under 200 concurrent requests, then lets the rest be spent", async () => {
    const budget = 50 * WORST_CASE;
    const { key } = await createApiKey(cluster.gateway.url, cluster.adminToken, "hot-key", { budget });

    const burst = await Promise.all(Array.from({ length: 200 }, () => send(cluster, key)));
    const answered = burst.filter((s) => s.status === 200);
    for (const s of burst.filter((s) => s.status !== 200))
      expect([s.status, s.code]).toEqual([429, "insufficient_quota"]);
    expect(answered.length).toBeGreaterThanOrEqual(1);
    expect(new Set(burst.map((s) => s.isolate)).size).toBe(4);
    const afterBurst = await usageOnceRecorded(cluster.gateway.url, key, answered.length);
    expect(afterBurst.totals.cost).toBeLessThanOrEqual(budget);
    const actual = afterBurst.totals.cost / answered.length;
    // The worst case is held, the actual cost charged: well apart, so what is left is many requests.
    expect(actual * 3).toBeLessThan(WORST_CASE);

    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const left = budget - afterBurst.totals.cost;
    expect(left).toBeGreaterThan(20 * WORST_CASE);
    const more = await spendTheRest(cluster, key);
    const final = await usageOnceRecorded(cluster.gateway.url, key, answered.length + more);
    expect(final.totals.cost).toBeLessThanOrEqual(budget);
    expect(final.totals.cost - afterBurst.totals.cost).toBeGreaterThanOrEqual(0.9 * left);
    // Nothing more arrives later: the ledger is final.
    expect((await fetchUsage(cluster.gateway.url, key)).totals.cost).toBe(final.totals.cost);
  });

  it("holds an rpm limit exactly across the isolates' slices, refusing the rest with Retry-After", async () => {
    const { key } = await createApiKey(cluster.gateway.url, cluster.adminToken, "hot-rpm", { rpm: 20 });
    const burst = await Promise.all(Array.from({ length: 80 }, () => send(cluster, key)));
    // Each isolate's slice takes its requests from the bucket: together never more than the limit, and none stranded.
    expect(burst.filter((s) => s.status === 200)).toHaveLength(20);
    for (const s of burst.filter((s) => s.status !== 200)) {
      expect([s.status, s.code]).toEqual([429, "rate_limit_exceeded"]);
      expect(Number(s.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    expect(new Set(burst.map((s) => s.isolate)).size).toBe(4);
  });
});

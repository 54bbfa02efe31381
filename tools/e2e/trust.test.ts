// Trust between gateway and nodes, probed from outside: heartbeats must be signed by the node's own key, fresh, and
// never replayed; agents serve only requests the gateway signed.
import { signRequest, utf8 } from "@meshgate/schemas";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAT_MODEL, startCluster, type Cluster } from "./support/cluster.js";
import { newTestNode, send, signedHeartbeat, type TestNode } from "./support/heartbeat.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";
import { usageOnceRecorded } from "./support/usage.js";

/** Test nodes advertise a model no real node serves, so they never take the cluster's traffic. */
const PROBE = { url: "http://127.0.0.1:9", models: ["trust-probe-model"] };

async function errorOf(response: Response): Promise<{ status: number; code: string | null }> {
  const body = (await response.json()) as { error?: { code?: string | null } };
  return { status: response.status, code: body.error?.code ?? null };
}

describe("trust checks", E2E, () => {
  let cluster: Cluster;
  let node: TestNode;
  beforeAll(async () => {
    cluster = await startCluster({ agents: 1, name: "trust" });
    node = await newTestNode();
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it("accepts a correctly signed heartbeat", async () => {
    const response = await send(await signedHeartbeat(cluster.gateway.url, node, { ...PROBE, seq: 1 }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ object: "heartbeat.ack", node_id: node.id, seq: 1, registered: true });
  });

  it("refuses a heartbeat whose body was changed after signing (401)", async () => {
    const signed = await signedHeartbeat(cluster.gateway.url, node, { ...PROBE, seq: 2 });
    const tampered = utf8(new TextDecoder().decode(signed.body).replace(PROBE.url, "http://attacker.example"));
    expect(await errorOf(await send(signed, tampered))).toEqual({ status: 401, code: "bad_digest" });
  });

  it("refuses a heartbeat sent twice (409 replayed_heartbeat)", async () => {
    const signed = await signedHeartbeat(cluster.gateway.url, node, { ...PROBE, seq: 3 });
    expect((await send(signed)).status).toBe(200);
    expect(await errorOf(await send(signed))).toEqual({ status: 409, code: "replayed_heartbeat" });
  });

  it("refuses a heartbeat signed ten minutes ago (401 signature_expired)", async () => {
    const stale = await signedHeartbeat(cluster.gateway.url, node, { ...PROBE, seq: 4, now: Date.now() - 10 * 60_000 });
    expect(await errorOf(await send(stale))).toEqual({ status: 401, code: "signature_expired" });
  });

  it("refuses a heartbeat for another node's id (401)", async () => {
    const impostor = await newTestNode();
    const signed = await signedHeartbeat(cluster.gateway.url, impostor, { ...PROBE, seq: 1 });
    const claimed = utf8(new TextDecoder().decode(signed.body).replace(impostor.id, node.id));
    // Re-sign the altered body with the impostor's key: the signature is valid, but not by the claimed node.
    const headers = new Headers({ "content-type": "application/json" });
    await signRequest({ method: "POST", url: signed.url, headers, body: claimed, signer: impostor.signer, now: Date.now() });
    expect((await send({ ...signed, headers, body: claimed })).status).toBe(401);
  });

  it("never pays a node that registered someone else's URL: the real node refuses dispatches not addressed to it", async () => {
    const realNode = cluster.agents[0]!;
    const squatter = await newTestNode();
    expect((await send(await signedHeartbeat(cluster.gateway.url, squatter, { url: realNode.url, models: [CHAT_MODEL], seq: 1 }))).status).toBe(200);
    const answeredBy = new Set<string>();
    const REQUESTS = 8;
    for (let i = 0; i < REQUESTS; i++) {
      const { response } = await cluster.client.chat.completions.create({ model: CHAT_MODEL, messages: [{ role: "user", content: "hi" }] }).withResponse();
      answeredBy.add(response.headers.get("x-meshgate-node") ?? "");
    }
    expect([...answeredBy]).toEqual([realNode.nodeId]);
    const report = await usageOnceRecorded(cluster.gateway.url, cluster.apiKey, REQUESTS);
    expect(report.data.every((row) => row.node_id === realNode.nodeId)).toBe(true);
  });

  describe("a node agent", () => {
    const body = JSON.stringify({ model: CHAT_MODEL, messages: [{ role: "user", content: "hi" }] });

    it("refuses a dispatch nobody signed (401)", async () => {
      const agent = cluster.agents[0];
      const response = await fetch(`${agent?.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
      expect(response.status).toBe(401);
    });

    it("refuses a dispatch signed by a key other than the gateway's (401)", async () => {
      const url = `${cluster.agents[0]?.url}/v1/chat/completions`;
      const headers = new Headers({ "content-type": "application/json" });
      await signRequest({ method: "POST", url, headers, body: utf8(body), signer: node.signer, now: Date.now() });
      expect((await fetch(url, { method: "POST", headers, body })).status).toBe(401);
    });
  });
});

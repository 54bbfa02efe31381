// Trust between gateway and nodes, probed from outside with real processes: heartbeats must be signed by the node's
// current key, fresh, and never replayed; a node gets traffic only once it proved its URL; bans and key rotations
// take effect; agents serve only requests the gateway signed.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { AdminNode } from "@meshgate/schemas";
import { signRequest, utf8 } from "@meshgate/schemas";
import { identityFromSecretKey, readKeyFile } from "@meshgate/node-agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listNodes } from "../gateway/nodes.js";
import { NODE_AGENT_BIN, pollUntil } from "../processes/index.js";
import { routedChat } from "./support/routed.js";
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
  const admin = (path: string, init: RequestInit = {}, token: string | null = cluster.adminToken) =>
    fetch(`${cluster.gateway.url}${path}`, { ...init, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const adminNode = async (id: string): Promise<AdminNode | undefined> =>
    ((await (await admin("/admin/nodes")).json()) as { data: AdminNode[] }).data.find((n) => n.id === id);
  /** Who answered `count` chat requests. */
  const answeredBy = async (count: number): Promise<Set<string>> => {
    const nodes = new Set<string>();
    for (let i = 0; i < count; i++) {
      const { response } = await cluster.client.chat.completions
        .create({ model: CHAT_MODEL, messages: [{ role: "user", content: "hi" }] })
        .withResponse();
      nodes.add(response.headers.get("x-meshgate-node") ?? "");
    }
    return nodes;
  };

  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, name: "trust" });
    node = await newTestNode();
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it("accepts a correctly signed heartbeat, but routes nothing to the node until it proves its URL", async () => {
    const response = await send(await signedHeartbeat(cluster.gateway.url, node, { ...PROBE, seq: 1 }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      object: "heartbeat.ack",
      node_id: node.id,
      seq: 1,
      registered: true,
      status: "pending_verification",
    });
    expect((await listNodes(cluster.gateway.url)).map((n) => n.id)).not.toContain(node.id);
  });

  it(
    "refuses a forged heartbeat: a body changed after signing (bad_digest) or a signature that is not the key's " +
      "(bad_signature)",
    async () => {
      const signed = await signedHeartbeat(cluster.gateway.url, node, { ...PROBE, seq: 2 });
      const tampered = utf8(new TextDecoder().decode(signed.body).replace(PROBE.url, "http://attacker.example"));
      expect(await errorOf(await send(signed, tampered))).toEqual({ status: 401, code: "bad_digest" });
      const forged = await signedHeartbeat(cluster.gateway.url, node, { ...PROBE, seq: 3 });
      forged.headers.set(
        "signature",
        forged.headers.get("signature")!.replace(/:(.)/, (_m, c: string) => `:${c === "A" ? "B" : "A"}`),
      );
      expect(await errorOf(await send(forged))).toEqual({ status: 401, code: "bad_signature" });
    },
  );

  it("refuses a replayed heartbeat, the same bytes sent twice (401 replayed_nonce)", async () => {
    const signed = await signedHeartbeat(cluster.gateway.url, node, { ...PROBE, seq: 4 });
    expect((await send(signed)).status).toBe(200);
    expect(await errorOf(await send(signed))).toEqual({ status: 401, code: "replayed_nonce" });
  });

  it("refuses a heartbeat signed ten minutes ago (401 signature_expired)", async () => {
    const stale = await signedHeartbeat(cluster.gateway.url, node, { ...PROBE, seq: 5, now: Date.now() - 10 * 60_000 });
    expect(await errorOf(await send(stale))).toEqual({ status: 401, code: "signature_expired" });
  });

  it("refuses a heartbeat for another node's id, however well signed (401 unknown_key)", async () => {
    const impostor = await newTestNode();
    const claimed = await signedHeartbeat(cluster.gateway.url, { ...impostor, id: node.id }, { ...PROBE, seq: 6 });
    expect(await errorOf(await send(claimed))).toEqual({ status: 401, code: "unknown_key" });
  });

  it("never routes to a node that claims another node's URL: it cannot answer the challenge sent there", async () => {
    const realNode = cluster.agents[0]!;
    const squatter = await newTestNode();
    const ack = await send(
      await signedHeartbeat(cluster.gateway.url, squatter, { url: realNode.url, models: [CHAT_MODEL], seq: 1 }),
    );
    expect(await ack.json()).toMatchObject({ status: "pending_verification" });
    // The gateway did challenge that URL, addressed to the squatter, and the real node refused to answer for it.
    await realNode.process.waitForLine(/refused request path=\/meshgate\/endpoint-proof code=wrong_node/, 15_000);
    expect(await adminNode(squatter.id)).toMatchObject({ endpoint_verified: false, live: true });
    const answered = await answeredBy(8);
    expect(answered.has(squatter.id)).toBe(false);
    const report = await usageOnceRecorded(cluster.gateway.url, cluster.apiKey, 8);
    expect(report.data.some((row) => row.node_id === squatter.id)).toBe(false);
  });

  it("bans a node: admin only, no traffic, heartbeats refused with 403; unbanning restores it", async () => {
    const banned = cluster.agents[1]!;
    const other = cluster.agents[0]!;
    // Without the admin token nothing is revealed, not even whether the node exists.
    expect(await errorOf(await admin(`/admin/nodes/${banned.nodeId}/ban`, { method: "POST" }, null))).toEqual({
      status: 401,
      code: "invalid_admin_token",
    });
    expect(await errorOf(await admin(`/admin/nodes/${"x".repeat(43)}/ban`, { method: "POST" }, null))).toEqual({
      status: 401,
      code: "invalid_admin_token",
    });
    expect(await errorOf(await admin(`/admin/nodes/${"x".repeat(43)}/ban`, { method: "POST" }))).toEqual({
      status: 404,
      code: "node_not_found",
    });

    const res = await fetch(`${cluster.gateway.url}/admin/nodes/${banned.nodeId}/ban`, {
      method: "POST",
      headers: { authorization: `Bearer ${cluster.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ reason: "e2e test" }),
    });
    expect(await res.json()).toEqual({ object: "node", id: banned.nodeId, banned: true, ban_reason: "e2e test" });
    await banned.process.waitForLine(/403 node_banned: Heartbeat refused: this node is banned: e2e test/, 15_000);
    await pollUntil(
      async () => !(await listNodes(cluster.gateway.url)).some((n) => n.id === banned.nodeId) || undefined,
      { what: "the banned node to leave /v1/nodes", timeoutMs: 10_000 },
    );
    expect([...(await answeredBy(10))]).toEqual([other.nodeId]);

    expect((await admin(`/admin/nodes/${banned.nodeId}/unban`, { method: "POST" })).status).toBe(200);
    await pollUntil(
      async () => (await listNodes(cluster.gateway.url)).some((n) => n.id === banned.nodeId) || undefined,
      { what: "the unbanned node to return", timeoutMs: 15_000 },
    );
  });

  it(
    "rotates a node's key with node-agent rotate-key: old key refused, new key accepted, id and " + "reputation kept",
    async () => {
      const agent = cluster.agents[0]!;
      const oldIdentity = await readKeyFile(agent.keyFile);
      // Give the node a history to carry over: requests that name it first, until the registry has counted them.
      for (let i = 0; i < 3; i++) await routedChat(cluster.client, { extra: { provider: { order: [agent.nodeId] } } });
      const before = await pollUntil(
        async () => {
          const n = await adminNode(agent.nodeId);
          return n && n.requests > 0 ? n : undefined;
        },
        { what: "the node's requests to reach the registry", timeoutMs: 10_000 },
      );
      expect(before?.keyid).toBe(oldIdentity.signer.keyId);

      const { stdout } = await promisify(execFile)(process.execPath, [
        NODE_AGENT_BIN,
        "rotate-key",
        "--gateway",
        cluster.gateway.url,
        "--key-file",
        agent.keyFile,
      ]);
      const newKeyId = stdout.trim();
      expect(newKeyId).not.toBe(oldIdentity.signer.keyId);
      expect((await readKeyFile(agent.keyFile)).signer.keyId).toBe(newKeyId);

      // Someone holding the old key is refused, whether as this node or as a "new" node named after the old key.
      const asNode = { id: agent.nodeId, publicKey: oldIdentity.publicKey, signer: oldIdentity.signer };
      expect(
        await errorOf(
          await send(await signedHeartbeat(cluster.gateway.url, asNode, { ...PROBE, seq: Date.now() + 60_000 })),
        ),
      ).toEqual({ status: 401, code: "revoked_key" });
      const asNewNode = { ...asNode, id: oldIdentity.signer.keyId };
      expect(
        await errorOf(await send(await signedHeartbeat(cluster.gateway.url, asNewNode, { ...PROBE, seq: 1 }))),
      ).toEqual({ status: 401, code: "revoked_key" });

      // The running agent notices at its next heartbeat and switches to the new key from its key file.
      await agent.process.waitForLine(
        new RegExp(`switched to the rotated key node=${agent.nodeId} keyid=${newKeyId}`),
        15_000,
      );
      const after = await pollUntil(
        async () => {
          const n = await adminNode(agent.nodeId);
          return n && n.keyid === newKeyId && n.live && n.endpoint_verified ? n : undefined;
        },
        { what: "the node to heartbeat with its new key", timeoutMs: 15_000 },
      );
      expect(after.jwk.x).toBe((await readKeyFile(agent.keyFile)).publicKey);
      // History carried over: a fresh node would start from 0 requests and the neutral 0.5.
      expect(before!.requests).toBeGreaterThan(0);
      expect(before!.reputation).toBeGreaterThan(0.5);
      expect(after.requests).toBeGreaterThanOrEqual(before!.requests);
      expect(after.reputation).toBeGreaterThanOrEqual(before!.reputation - 0.05);
      // And it still serves: its dispatches and endpoint proofs carry on under the same node id.
      await pollUntil(async () => (await answeredBy(4)).has(agent.nodeId) || undefined, {
        what: "a request answered by the rotated node",
        timeoutMs: 20_000,
      });
    },
  );

  describe("a node agent", () => {
    const body = JSON.stringify({ model: CHAT_MODEL, messages: [{ role: "user", content: "hi" }] });

    it("refuses a dispatch nobody signed (401)", async () => {
      const agent = cluster.agents[0];
      const response = await fetch(`${agent?.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(response.status).toBe(401);
    });

    it("refuses a dispatch signed by a key other than the gateway's (401)", async () => {
      const url = `${cluster.agents[0]?.url}/v1/chat/completions`;
      const headers = new Headers({ "content-type": "application/json" });
      const stranger = await identityFromSecretKey(crypto.getRandomValues(new Uint8Array(32)));
      await signRequest({ method: "POST", url, headers, body: utf8(body), signer: stranger.signer, now: Date.now() });
      expect((await fetch(url, { method: "POST", headers, body })).status).toBe(401);
    });
  });
});

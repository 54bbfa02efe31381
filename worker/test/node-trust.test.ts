// Key rotation, bans, heartbeat rate limits, the admin node list and signature malleability, through the Worker's
// fetch handler and its real registry.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  fromBase64,
  jwkThumbprint,
  keyRotationStatement,
  publicJwk,
  toBase64,
  toBase64Url,
  utf8,
  type AdminNode,
} from "@meshgate/schemas";
import { malleateSignature, nonCanonicalSignatureHeader } from "@meshgate/schemas/testing";
import { gatewayKeys, parseInstant } from "../src/mesh/gateway-keys.js";
import {
  adminFetch,
  BASE,
  errorBody,
  heartbeatBody,
  newNode,
  register,
  registerRoutable,
  sendHeartbeat,
  signNodeRequest,
  type TestNode,
} from "./helpers.js";

async function listed(id: string): Promise<boolean> {
  const body = (await (await SELF.fetch(`${BASE}/v1/nodes`)).json()) as { data: { id: string }[] };
  return body.data.some((n) => n.id === id);
}

async function adminNode(id: string): Promise<AdminNode | undefined> {
  const body = (await (await adminFetch("/admin/nodes")).json()) as { data: AdminNode[] };
  return body.data.find((n) => n.id === id);
}

/** A rotation request for `node` to `next`, HTTP-signed by the node's current key. */
async function rotation(
  node: TestNode,
  next: TestNode,
  over: { signature?: string; nodeId?: string } = {},
): Promise<Response> {
  const timestamp = Date.now();
  const statement = keyRotationStatement({
    node_id: node.id,
    old_keyid: node.signer.keyId,
    new_keyid: next.signer.keyId,
    timestamp,
  });
  const body = {
    node_id: over.nodeId ?? node.id,
    new_key: publicJwk(next.publicKey),
    timestamp,
    new_key_signature: over.signature ?? toBase64Url(await next.signer.sign(statement)),
  };
  const signed = await signNodeRequest(node, body, { path: "/v1/nodes/rotate-key" });
  return SELF.fetch(`${BASE}/v1/nodes/rotate-key`, { method: "POST", body: signed.body, headers: signed.headers });
}

describe("POST /v1/nodes/rotate-key", () => {
  it("moves a node to a new key: the old key is refused, the new one accepted, the node's history kept", async () => {
    const node = await registeredNode();
    const next = await newNode();
    const before = await adminNode(node.id);
    const res = await rotation(node, next);
    expect(await res.json()).toEqual({
      object: "node.key_rotation",
      node_id: node.id,
      keyid: next.signer.keyId,
      previous_keyid: node.signer.keyId,
    });

    const old = await register(node);
    expect(old.status).toBe(401);
    expect((await errorBody(old)).code).toBe("revoked_key");
    const rotated: TestNode = { ...node, publicKey: next.publicKey, signer: next.signer };
    expect(await (await register(rotated)).json()).toMatchObject({ node_id: node.id, status: "active" });
    const after = await adminNode(node.id);
    expect(after).toMatchObject({
      keyid: next.signer.keyId,
      jwk: publicJwk(next.publicKey),
      requests: before?.requests,
      reputation: before?.reputation,
      endpoint_verified: true,
    });
  });

  it("refuses a rotation the new key did not sign (401 bad_signature)", async () => {
    const node = await registeredNode();
    const next = await newNode();
    const stranger = await newNode();
    const forged = toBase64Url(await stranger.signer.sign(utf8("anything")));
    const res = await rotation(node, next, { signature: forged });
    expect(res.status).toBe(401);
    expect(await errorBody(res)).toMatchObject({ code: "bad_signature", param: "new_key_signature" });
    expect((await register(node)).status).toBe(200);
  });

  it(
    "refuses a rotation to a key some node already uses (409 key_in_use), and one for an unknown node like a wrong " +
      "key",
    async () => {
      const node = await registeredNode();
      const other = await registeredNode();
      expect((await errorBody(await rotation(node, other))).code).toBe("key_in_use");
      const unknown = await newNode();
      const res = await rotation(unknown, await newNode());
      expect(res.status).toBe(401);
      expect((await errorBody(res)).code).toBe("unknown_key");
    },
  );

  it("answers a retried rotation (the first answer was lost) with success, without rotating again", async () => {
    const node = await registeredNode();
    const next = await newNode();
    expect((await rotation(node, next)).status).toBe(200);
    expect(await (await rotation(node, next)).json()).toMatchObject({
      keyid: next.signer.keyId,
      previous_keyid: node.signer.keyId,
    });
    expect((await adminNode(node.id))?.keyid).toBe(next.signer.keyId);
  });

  it("never lets a rotated-out or a current key register a node of its own", async () => {
    const node = await registeredNode();
    const next = await newNode();
    expect((await rotation(node, next)).status).toBe(200);
    // The old key, as a "new" node named after itself.
    const oldAsNew: TestNode = { ...node, id: node.signer.keyId, seq: 0 };
    expect((await errorBody(await register(oldAsNew))).code).toBe("revoked_key");
    // The node's current key, as a "new" node named after itself: not a second node (and not a 500).
    const currentAsNew: TestNode = { ...next, seq: 0 };
    const res = await register(currentAsNew);
    expect(res.status).toBe(409);
    expect((await errorBody(res)).code).toBe("key_in_use");
  });

  it("refuses a rotation signed by a key that was already rotated out", async () => {
    const node = await registeredNode();
    expect((await rotation(node, await newNode())).status).toBe(200);
    expect((await errorBody(await rotation(node, await newNode()))).code).toBe("revoked_key");
  });
});

describe("bans", () => {
  it("are admin-only, and never say whether a node exists to anyone else", async () => {
    const node = await registeredNode();
    for (const path of [
      `/admin/nodes/${node.id}/ban`,
      `/admin/nodes/${"A".repeat(43)}/ban`,
      `/admin/nodes/${node.id}/unban`,
    ]) {
      const res = await SELF.fetch(`${BASE}${path}`, { method: "POST", headers: { authorization: "Bearer wrong" } });
      expect(res.status).toBe(401);
      expect((await errorBody(res)).code).toBe("invalid_admin_token");
    }
    expect((await SELF.fetch(`${BASE}/admin/nodes`)).status).toBe(401);
    expect((await adminFetch(`/admin/nodes/${"A".repeat(43)}/ban`, { method: "POST" })).status).toBe(404);
    expect((await adminFetch("/admin/nodes/not-a-node-id/ban", { method: "POST" })).status).toBe(404);
  });

  it("take a node out of routing and refuse its heartbeats with 403 until it is unbanned", async () => {
    const node = await registeredNode();
    expect(await listed(node.id)).toBe(true);
    const res = await adminFetch(`/admin/nodes/${node.id}/ban`, {
      method: "POST",
      body: JSON.stringify({ reason: "served garbage" }),
    });
    expect(await res.json()).toEqual({ object: "node", id: node.id, banned: true, ban_reason: "served garbage" });
    expect(await listed(node.id)).toBe(false);
    const refused = await register(node);
    expect(refused.status).toBe(403);
    expect(await errorBody(refused)).toMatchObject({ type: "permission_error", code: "node_banned" });
    expect(await adminNode(node.id)).toMatchObject({ banned: true, ban_reason: "served garbage" });

    expect((await adminFetch(`/admin/nodes/${node.id}/unban`, { method: "POST" })).status).toBe(200);
    expect((await register(node)).status).toBe(200);
    expect(await listed(node.id)).toBe(true);
  });

  it("also ban the URL the node proved, so a fresh key cannot bring the same server back", async () => {
    const url = "http://127.0.0.1:45001/";
    const node = await newNode();
    expect((await registerRoutable(node, { url })).status).toBe(200);
    expect((await adminFetch(`/admin/nodes/${node.id}/ban`, { method: "POST" })).status).toBe(200);
    const reborn = await newNode();
    const res = await register(reborn, { url: "http://127.0.0.1:45001/v1" });
    expect(res.status).toBe(403);
    expect((await errorBody(res)).code).toBe("node_banned");
    expect((await adminFetch(`/admin/nodes/${node.id}/unban`, { method: "POST" })).status).toBe(200);
    expect((await register(reborn, { url })).status).toBe(200);
  });
});

describe("heartbeat rate limit", () => {
  it("answers 429 with Retry-After past the configured burst, and counts per node", async () => {
    const node = await newNode();
    const other = await newNode();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await register(node)).status);
    expect(statuses).toEqual([...Array<number>(10).fill(200), 429]);
    const limited = await register(node);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await errorBody(limited)).toMatchObject({ type: "rate_limit_error", code: "rate_limited" });
    expect((await register(other)).status).toBe(200);
  });
});

describe("signature malleability", () => {
  it("refuses a heartbeat whose signature's S was replaced by S + L (401 bad_signature)", async () => {
    const node = await newNode();
    const signed = await signNodeRequest(node, heartbeatBody(node));
    const header = signed.headers.get("signature")!;
    const bytes = fromBase64(/:(.*):/.exec(header)![1]!)!;
    signed.headers.set("signature", `sig1=:${toBase64(malleateSignature(bytes))}:`);
    const res = await sendHeartbeat(signed);
    expect(res.status).toBe(401);
    expect((await errorBody(res)).code).toBe("bad_signature");
    expect(await adminNode(node.id)).toBeUndefined();
  });

  it("refuses a signature in a non-canonical base64 form", async () => {
    const node = await newNode();
    const signed = await signNodeRequest(node, heartbeatBody(node));
    signed.headers.set("signature", nonCanonicalSignatureHeader(signed.headers.get("signature")!));
    const res = await sendHeartbeat(signed);
    expect(res.status).toBe(401);
    expect((await errorBody(res)).code).toBe("malformed_signature");
  });
});

describe("published gateway keys", () => {
  it("list the previous key during a rotation, until its deadline", async () => {
    const previous = (await newNode()).publicKey;
    const now = Date.now();
    const rotating = {
      ...env,
      GATEWAY_PREVIOUS_PUBLIC_KEY: previous,
      GATEWAY_PREVIOUS_KEY_UNTIL: String(Math.floor(now / 1000) + 60),
    };
    const keys = await gatewayKeys(rotating, now);
    expect(keys.map((k) => k.status)).toEqual(["current", "previous"]);
    expect(keys[1]).toMatchObject({ kid: await jwkThumbprint(previous), jwk: publicJwk(previous) });
    expect(await gatewayKeys(rotating, now + 61_000)).toHaveLength(1);
    expect(await gatewayKeys({ ...env, GATEWAY_PREVIOUS_PUBLIC_KEY: "not-a-key" }, now)).toHaveLength(1);
    // Standard base64 would break agents' parsing of the whole document; an unreadable deadline would never end.
    expect(
      await gatewayKeys(
        { ...env, GATEWAY_PREVIOUS_PUBLIC_KEY: previous.replace(/-/g, "+").replace(/_/g, "/") + "=" },
        now,
      ),
    ).toHaveLength(1);
    expect(
      await gatewayKeys(
        { ...env, GATEWAY_PREVIOUS_PUBLIC_KEY: previous, GATEWAY_PREVIOUS_KEY_UNTIL: "next tuesday" },
        now,
      ),
    ).toHaveLength(1);
  });

  it("read deadlines as unix seconds or ISO 8601", () => {
    expect(parseInstant("1700000000")).toBe(1_700_000_000_000);
    expect(parseInstant("2026-12-01T00:00:00Z")).toBe(Date.UTC(2026, 11, 1));
    expect(parseInstant("1700000000000")).toBe(1_700_000_000_000);
    expect(parseInstant("soon")).toBeNaN();
    expect(parseInstant(undefined)).toBeNull();
  });
});

async function registeredNode(): Promise<TestNode> {
  const node = await newNode();
  expect((await registerRoutable(node)).status).toBe(200);
  return node;
}

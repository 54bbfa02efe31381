import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  BASE,
  errorBody,
  heartbeatBody,
  markEndpointProven,
  newNode,
  register,
  sendHeartbeat,
  signHeartbeat,
} from "./helpers.js";

async function nodeIds(): Promise<string[]> {
  const res = await SELF.fetch(`${BASE}/v1/nodes`);
  const body = (await res.json()) as { object: string; data: { id: string }[] };
  expect(body.object).toBe("list");
  return body.data.map((n) => n.id);
}

describe("POST /v1/nodes/heartbeat", () => {
  it("registers a node on its first signed heartbeat; lists it, with its JWK, once its URL is proven", async () => {
    const node = await newNode();
    const res = await register(node, { url: "http://127.0.0.1:9001/" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      object: "heartbeat.ack",
      node_id: node.id,
      seq: 1,
      registered: true,
      status: "pending_verification",
    });
    // Nobody answers the challenge at that address, so the node stays unlisted and unrouted.
    expect(await nodeIds()).not.toContain(node.id);

    await markEndpointProven(node, "http://127.0.0.1:9001/");
    const again = await register(node, { url: "http://127.0.0.1:9001/" });
    expect(await again.json()).toMatchObject({ registered: false, seq: 2, status: "active" });
    const list = (await (await SELF.fetch(`${BASE}/v1/nodes`)).json()) as { data: Record<string, unknown>[] };
    const entry = list.data.find((n) => n["id"] === node.id);
    expect(entry).toMatchObject({
      keyid: node.id,
      jwk: { kty: "OKP", crv: "Ed25519", x: node.publicKey },
      url: "http://127.0.0.1:9001/",
      models: [{ id: "test-model", owned_by: "test" }],
      capacity: 8,
      latency_ms: null,
      reputation: 0.5,
    });
    expect(Date.parse(String(entry?.["last_heartbeat"]))).toBeGreaterThan(Date.now() - 60_000);
  });

  it("takes a node out of the list when its URL changes, until the new URL is proven", async () => {
    const node = await newNode();
    await register(node, { url: "http://127.0.0.1:9002/" });
    await markEndpointProven(node, "http://127.0.0.1:9002/");
    expect(await (await register(node, { url: "http://127.0.0.1:9002/" })).json()).toMatchObject({ status: "active" });
    expect(await (await register(node, { url: "http://127.0.0.1:9003/" })).json()).toMatchObject({
      status: "pending_verification",
    });
    expect(await nodeIds()).not.toContain(node.id);
  });

  it("refuses a heartbeat whose body was changed after signing", async () => {
    const node = await newNode();
    const signed = await signHeartbeat(node, heartbeatBody(node));
    const tampered = new TextEncoder().encode(
      new TextDecoder().decode(signed.body).replace('"capacity":8', '"capacity":9'),
    );
    const res = await sendHeartbeat({ ...signed, body: tampered });
    expect(res.status).toBe(401);
    expect((await errorBody(res)).code).toBe("bad_digest");
    expect(await nodeIds()).not.toContain(node.id);
  });

  it("refuses a replayed heartbeat: the same bytes twice (401 replayed_nonce)", async () => {
    const node = await newNode();
    const signed = await signHeartbeat(node, heartbeatBody(node));
    expect((await sendHeartbeat(signed)).status).toBe(200);
    const replay = await sendHeartbeat(signed);
    expect(replay.status).toBe(401);
    expect((await errorBody(replay)).code).toBe("replayed_nonce");
  });

  it("refuses an older sequence number even when freshly signed (409 replayed_heartbeat)", async () => {
    const node = await newNode();
    expect((await register(node, { seq: 10 })).status).toBe(200);
    const res = await register(node, { seq: 5 });
    expect(res.status).toBe(409);
    expect(await errorBody(res)).toMatchObject({ code: "replayed_heartbeat", param: "seq" });
  });

  it("remembers a nonce even when the heartbeat it signed was refused, so it cannot be retried", async () => {
    const node = await newNode();
    expect((await register(node, { seq: 10 })).status).toBe(200);
    const signed = await signHeartbeat(node, heartbeatBody(node, { seq: 3 }));
    expect((await sendHeartbeat(signed)).status).toBe(409);
    expect((await errorBody(await sendHeartbeat(signed))).code).toBe("replayed_nonce");
  });

  it("refuses a stale heartbeat: signed ten minutes ago", async () => {
    const node = await newNode();
    const res = await sendHeartbeat(await signHeartbeat(node, heartbeatBody(node), { now: Date.now() - 10 * 60_000 }));
    expect(res.status).toBe(401);
    expect((await errorBody(res)).code).toBe("signature_expired");
  });

  it("refuses a heartbeat whose own timestamp is far off", async () => {
    const node = await newNode();
    const res = await sendHeartbeat(
      await signHeartbeat(node, heartbeatBody(node, { timestamp: Date.now() - 5 * 60_000 })),
    );
    expect(res.status).toBe(401);
    expect(await errorBody(res)).toMatchObject({ code: "stale_timestamp", param: "timestamp" });
  });

  it("refuses a heartbeat signed by a key other than the node's (401 unknown_key)", async () => {
    const node = await newNode();
    const impostor = await newNode();
    expect((await register(node)).status).toBe(200);
    // The impostor signs correctly with its own key, but claims the registered node's id.
    const claimed = await sendHeartbeat(
      await signHeartbeat(node, heartbeatBody(node), { signer: impostor.signer, publicKey: impostor.publicKey }),
    );
    expect(claimed.status).toBe(401);
    expect((await errorBody(claimed)).code).toBe("unknown_key");
    // A new node id that is not the thumbprint of the signing key is refused the same way.
    const fresh = await newNode();
    const unregistered = await sendHeartbeat(
      await signHeartbeat(fresh, heartbeatBody(fresh), { signer: impostor.signer, publicKey: impostor.publicKey }),
    );
    expect((await errorBody(unregistered)).code).toBe("unknown_key");
  });

  it("refuses a signature whose meshgate-node-key is missing or does not hash to the keyid", async () => {
    const node = await newNode();
    const other = await newNode();
    const signed = await signHeartbeat(node, heartbeatBody(node), { publicKey: other.publicKey });
    expect((await errorBody(await sendHeartbeat(signed))).code).toBe("unknown_key");
    const bare = await signHeartbeat(node, heartbeatBody(node));
    bare.headers.delete("meshgate-node-key");
    expect((await errorBody(await sendHeartbeat(bare))).code).toBe("unknown_key");
  });

  it("refuses a forged signature", async () => {
    const node = await newNode();
    const signed = await signHeartbeat(node, heartbeatBody(node));
    const sig = signed.headers.get("signature")!;
    signed.headers.set(
      "signature",
      sig.replace(/:(.)/, (_m, c: string) => `:${c === "A" ? "B" : "A"}`),
    );
    const res = await sendHeartbeat(signed);
    expect(res.status).toBe(401);
    expect((await errorBody(res)).code).toBe("bad_signature");
  });

  it("refuses an unsigned heartbeat", async () => {
    const node = await newNode();
    const res = await SELF.fetch(`${BASE}/v1/nodes/heartbeat`, {
      method: "POST",
      body: JSON.stringify(heartbeatBody(node)),
    });
    expect(res.status).toBe(401);
    expect((await errorBody(res)).code).toBe("missing_signature");
  });

  it("validates a correctly signed but malformed heartbeat with a 400 naming the field", async () => {
    const node = await newNode();
    const res = await sendHeartbeat(await signHeartbeat(node, { ...heartbeatBody(node), capacity: -1 }));
    expect(res.status).toBe(400);
    expect((await errorBody(res)).param).toBe("capacity");
    const notJson = await sendHeartbeat(await signHeartbeat(node, "not an object"));
    expect(notJson.status).toBe(400);
  });

  it("refuses an oversized heartbeat before reading it all", async () => {
    const node = await newNode();
    const res = await sendHeartbeat(
      await signHeartbeat(node, { ...heartbeatBody(node), padding: "x".repeat(100_000) }),
    );
    expect(res.status).toBe(413);
  });
});

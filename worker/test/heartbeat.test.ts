import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, errorBody, heartbeatBody, newNode, register, sendHeartbeat, signHeartbeat } from "./helpers.js";

async function nodeIds(): Promise<string[]> {
  const res = await SELF.fetch(`${BASE}/v1/nodes`);
  const body = (await res.json()) as { object: string; data: { id: string }[] };
  expect(body.object).toBe("list");
  return body.data.map((n) => n.id);
}

describe("POST /v1/nodes/heartbeat", () => {
  it("registers a node on its first signed heartbeat and lists it publicly", async () => {
    const node = await newNode();
    const res = await register(node, { url: "http://127.0.0.1:9001/" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ object: "heartbeat.ack", node_id: node.id, seq: 1, registered: true, interval_ms: expect.any(Number) });
    const again = await register(node, { url: "http://127.0.0.1:9001/" });
    expect(await again.json()).toMatchObject({ registered: false, seq: 2 });

    const list = (await (await SELF.fetch(`${BASE}/v1/nodes`)).json()) as { data: Record<string, unknown>[] };
    const entry = list.data.find((n) => n["id"] === node.id);
    expect(entry).toMatchObject({ url: "http://127.0.0.1:9001/", models: [{ id: "test-model", owned_by: "test" }], capacity: 8, latency_ms: null, reputation: 0.5 });
    expect(Date.parse(String(entry?.["last_heartbeat"]))).toBeGreaterThan(Date.now() - 60_000);
  });

  it("refuses a heartbeat whose body was changed after signing", async () => {
    const node = await newNode();
    const signed = await signHeartbeat(node, heartbeatBody(node));
    const tampered = new TextEncoder().encode(new TextDecoder().decode(signed.body).replace('"capacity":8', '"capacity":9'));
    const res = await sendHeartbeat({ ...signed, body: tampered });
    expect(res.status).toBe(401);
    expect((await errorBody(res)).code).toBe("bad_digest");
    expect(await nodeIds()).not.toContain(node.id);
  });

  it("refuses a replayed heartbeat: the same bytes twice", async () => {
    const node = await newNode();
    const signed = await signHeartbeat(node, heartbeatBody(node));
    expect((await sendHeartbeat(signed)).status).toBe(200);
    const replay = await sendHeartbeat(signed);
    expect(replay.status).toBe(409);
    const err = await errorBody(replay);
    expect(err.code).toBe("replayed_heartbeat");
    expect(err.param).toBe("seq");
  });

  it("refuses an older sequence number even when freshly signed", async () => {
    const node = await newNode();
    expect((await register(node, { seq: 10 })).status).toBe(200);
    expect((await register(node, { seq: 5 })).status).toBe(409);
  });

  it("refuses a stale heartbeat: signed ten minutes ago", async () => {
    const node = await newNode();
    const res = await sendHeartbeat(await signHeartbeat(node, heartbeatBody(node), { now: Date.now() - 10 * 60_000 }));
    expect(res.status).toBe(401);
    expect((await errorBody(res)).code).toBe("signature_expired");
  });

  it("refuses a heartbeat whose own timestamp is far off", async () => {
    const node = await newNode();
    const res = await sendHeartbeat(await signHeartbeat(node, heartbeatBody(node, { timestamp: Date.now() - 5 * 60_000 })));
    expect(res.status).toBe(401);
    expect(await errorBody(res)).toMatchObject({ code: "stale_heartbeat", param: "timestamp" });
  });

  it("refuses a heartbeat signed by a key other than the node's", async () => {
    const node = await newNode();
    const impostor = await newNode();
    const res = await sendHeartbeat(await signHeartbeat(node, heartbeatBody(node), { signer: impostor.signer }));
    expect(res.status).toBe(401);
    expect((await errorBody(res)).code).toBe("key_mismatch");
  });

  it("refuses a forged signature", async () => {
    const node = await newNode();
    const signed = await signHeartbeat(node, heartbeatBody(node));
    const sig = signed.headers.get("signature")!;
    signed.headers.set("signature", sig.replace(/:(.)/, (_m, c: string) => `:${c === "A" ? "B" : "A"}`));
    const res = await sendHeartbeat(signed);
    expect(res.status).toBe(401);
    expect((await errorBody(res)).code).toBe("bad_signature");
  });

  it("refuses an unsigned heartbeat", async () => {
    const node = await newNode();
    const res = await SELF.fetch(`${BASE}/v1/nodes/heartbeat`, { method: "POST", body: JSON.stringify(heartbeatBody(node)) });
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
    const res = await sendHeartbeat(await signHeartbeat(node, { ...heartbeatBody(node), padding: "x".repeat(100_000) }));
    expect(res.status).toBe(413);
  });
});

import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  CANCEL_PATH,
  decodeCredit,
  FrameType,
  RelayedRequestSchema,
  SESSION_AUTHORITY,
  SESSION_HANDSHAKE_TIMEOUT_MS,
  SESSION_ORIGIN,
  SessionClose,
  STREAM_WINDOW_BYTES,
  type Frame,
} from "@meshgate/schemas";
import { signGatewayRequest } from "@meshgate/schemas/testing";
import { nodeRegistry, nodeSession } from "../src/durable/names.js";
import { SESSION_OPENING_HEADER, type SessionOpening } from "../src/durable/node-session/node-session.js";
import { RELAY_FAILURE_HEADER } from "../src/durable/node-session/relays.js";
import { OPENING_UPGRADES } from "../src/routes/node-connect.js";
import { invalidateNodeSnapshot } from "../src/mesh/node-snapshot.js";
import {
  adminFetch,
  BASE,
  clientFetch,
  createApiKey,
  errorBody,
  newNode,
  register,
  registerRoutable,
  type TestNode,
} from "./helpers.js";
import { sendUpgrade, SessionPeer, upgradeHeaders } from "./session-peer.js";

async function listed(nodeId: string): Promise<Record<string, unknown> | undefined> {
  invalidateNodeSnapshot();
  const body = (await (await SELF.fetch(`${BASE}/v1/nodes`)).json()) as { data: Record<string, unknown>[] };
  return body.data.find((n) => n["id"] === nodeId);
}

/** A request as the gateway relays one to the node's session: signed for the node, sent to its session object. */
async function relay(node: TestNode, body: string, signal?: AbortSignal): Promise<Response> {
  const url = `${SESSION_ORIGIN}/v1/chat/completions`;
  const bytes = new TextEncoder().encode(body);
  const gatewaySigner = { keyId: "test-gateway", sign: async () => new Uint8Array(64) };
  const headers = await signGatewayRequest({ url, body: bytes, signer: gatewaySigner, nodeId: node.id });
  return nodeSession(env, node.id).fetch(
    new Request(url, { method: "POST", headers, body: bytes, signal: signal ?? null }),
  );
}

const isRequest = (f: Frame): boolean => f.type === FrameType.request;
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe("node sessions: opening", () => {
  it("accepts a signed upgrade, welcomes the node, and routes to it once its state is accepted", async () => {
    const node = await newNode();
    const peer = await SessionPeer.open(node);
    const welcome = await peer.next((m) => m.type === "welcome");
    expect(welcome).toMatchObject({
      type: "welcome",
      node_id: node.id,
      replaced: false,
      ping_interval_ms: 5_000,
      reconnect_window_ms: 200,
    });
    expect(await listed(node.id)).toBeUndefined();

    peer.ws.send(JSON.stringify({ type: "state", models: [{ id: "session-model" }], capacity: 3 }));
    expect(await peer.next((m) => m.type === "state.ack")).toMatchObject({ accepted: true });
    expect(await listed(node.id)).toMatchObject({
      url: "",
      transport: "session",
      capacity: 3,
      models: [{ id: "session-model" }],
    });
    peer.ws.close(1000, "done");
  });

  it("answers keep-alives", async () => {
    const peer = await SessionPeer.open(await newNode());
    peer.ws.send("ping");
    await peer.until(() => peer.pongs === 1);
    peer.ws.close(1000);
  });

  it("closes a session that stops its keep-alives, and keeps one that pings", async () => {
    // The Workers-test bindings set SESSION_SILENCE_LIMIT_MS to 2 s (15 s by default).
    const silent = await newNode();
    const pinging = await newNode();
    const quiet = await SessionPeer.live(silent);
    const alive = await SessionPeer.live(pinging);
    expect(await listed(silent.id)).toBeDefined();
    const pings = setInterval(() => alive.ws.send("ping"), 400);
    try {
      await quiet.until(() => quiet.closed !== null, 6_000);
      expect(quiet.closed).toMatchObject({ code: SessionClose.silent });
      expect(await listed(silent.id)).toBeUndefined();
      expect(alive.closed).toBeNull();
      expect(await listed(pinging.id)).toMatchObject({ transport: "session" });
    } finally {
      clearInterval(pings);
      alive.ws.close(1000);
    }
  }, 10_000);

  it("finds a silent session dead when a request comes for it, before any sweep", async () => {
    const node = await newNode();
    const peer = await SessionPeer.live(node);
    // No sweep: only the request can notice the silence.
    await runInDurableObject(nodeSession(env, node.id), (_session, state) => state.storage.deleteAlarm());
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect(peer.closed).toBeNull();
    const res = await relay(node, '{"model":"test-model"}');
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("went silent");
    await peer.until(() => peer.closed !== null);
    expect(peer.closed).toMatchObject({ code: SessionClose.silent });
    expect(peer.frames.filter(isRequest)).toHaveLength(0);
    expect(await listed(node.id)).toBeUndefined();
  });

  it("refuses what is not a signed WebSocket upgrade from the node's current key", async () => {
    const node = await newNode();
    const plain = await SELF.fetch(`${BASE}/v1/nodes/connect/${node.id}`);
    expect(plain.status).toBe(426);
    expect((await errorBody(plain)).code).toBe("upgrade_required");

    const unsigned = await sendUpgrade(node, new Headers({ upgrade: "websocket" }));
    expect(unsigned.status).toBe(401);

    const stale = await sendUpgrade(node, await upgradeHeaders(node, { now: Date.now() - 10 * 60_000 }));
    expect(stale.status).toBe(401);

    const stranger = await newNode();
    const forged = await sendUpgrade(
      node,
      await upgradeHeaders(node, { signer: stranger.signer, publicKey: stranger.publicKey }),
    );
    expect(forged.status).toBe(401);
    expect((await errorBody(forged)).code).toBe("unknown_key");
  });

  it("refuses a replayed upgrade", async () => {
    const node = await newNode();
    const headers = await upgradeHeaders(node);
    const first = await sendUpgrade(node, headers);
    expect(first.status).toBe(101);
    first.webSocket?.accept();
    const replay = await sendUpgrade(node, headers);
    expect(replay.status).toBe(401);
    expect((await errorBody(replay)).code).toBe("replayed_nonce");
    first.webSocket?.close(1000);
  });

  it("lets a second agent with the same key replace the first, and tells both", async () => {
    const node = await newNode();
    const first = await SessionPeer.live(node);
    const second = await SessionPeer.open(node);
    expect(await second.next((m) => m.type === "welcome")).toMatchObject({ replaced: true });
    await first.until(() => first.closed !== null);
    expect(first.closed).toMatchObject({ code: SessionClose.replaced });
    expect(first.closed?.reason).toMatch(/another agent with this node's key/);
    // The node stays live through the newer session.
    expect(await listed(node.id)).toMatchObject({ transport: "session" });
    second.ws.close(1000);
  });

  it("refuses an upgrade signed before the live session's, leaving the live session open", async () => {
    // A reconnect herd: the agent gave up on an upgrade, dialled again and got in; the abandoned upgrade arrives last.
    const node = await newNode();
    const abandoned = await upgradeHeaders(node, { now: Date.now() - 20_000 });
    const live = await SessionPeer.live(node);
    const late = await sendUpgrade(node, abandoned);
    expect(late.status).toBe(409);
    const refusal = await errorBody(late);
    expect(refusal.code).toBe("session_superseded");
    expect(refusal.message).toMatch(/signed at .* reached the gateway, after this one's signature/);
    live.ws.send("ping");
    await live.until(() => live.pongs > 0);
    expect(live.closed).toBeNull();
    expect(await nodeSession(env, node.id).sessions()).toBe(1);
    expect(await listed(node.id)).toMatchObject({ transport: "session" });
    live.ws.close(1000);
  });

  it("ends with the newest upgrade live when an abandoned one races it", async () => {
    const node = await newNode();
    const abandoned = await upgradeHeaders(node, { now: Date.now() - 20_000 });
    const newest = await upgradeHeaders(node);
    const [late, live] = await Promise.all([sendUpgrade(node, abandoned), sendUpgrade(node, newest)]);
    expect(live.status).toBe(101);
    const peer = new SessionPeer(live.webSocket!);
    expect(await peer.next((m) => m.type === "welcome")).toMatchObject({ type: "welcome" });
    // The abandoned one was refused, or let in first and replaced at once: never the other way round.
    if (late.status === 101) late.webSocket?.accept();
    else expect((await errorBody(late)).code).toBe("session_superseded");
    peer.ws.send("ping");
    await peer.until(() => peer.pongs > 0);
    expect(peer.closed).toBeNull();
    expect(await nodeSession(env, node.id).sessions()).toBe(1);
    peer.ws.close(1000);
  });

  it("drops an upgrade that waited past the agent's handshake timeout, without asking the registry", async () => {
    const node = await newNode();
    const signature = { keyId: node.id, publicKey: node.publicKey, nonce: "n-late", createdAt: Date.now() - 11_000 };
    const opening: SessionOpening = {
      nodeId: node.id,
      signature: { ...signature, nonceExpiresAt: Date.now() + 60_000 },
      source: "203.0.113.9",
      now: Date.now() - SESSION_HANDSHAKE_TIMEOUT_MS - 1_000,
    };
    const res = await nodeSession(env, node.id).fetch("https://session/connect", {
      headers: { upgrade: "websocket", [SESSION_OPENING_HEADER]: JSON.stringify(opening) },
    });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ refusal: { code: "gateway_busy", retryAfterSeconds: 1 } });
    // Never registered: the registry was not asked.
    expect(await registryHasNode(node.id)).toBe(false);
  });

  it("turns upgrades away at once with 503 and Retry-After while the isolate opens its limit of them", async () => {
    const node = await newNode();
    const taken = Array.from({ length: OPENING_UPGRADES.limit }, () => OPENING_UPGRADES.enter());
    try {
      const busy = await sendUpgrade(node, await upgradeHeaders(node));
      expect(busy.status).toBe(503);
      expect(busy.headers.get("retry-after")).toBe("1");
      expect((await errorBody(busy)).code).toBe("gateway_busy");
    } finally {
      for (const release of taken) release?.();
    }
    const peer = await SessionPeer.live(node);
    expect(await listed(node.id)).toMatchObject({ transport: "session" });
    peer.ws.close(1000);
  });

  it("closes a banned node's session at once and refuses it again", async () => {
    const node = await newNode();
    const peer = await SessionPeer.live(node);
    const ban = await adminFetch(`/admin/nodes/${node.id}/ban`, {
      method: "POST",
      body: JSON.stringify({ reason: "tests" }),
    });
    expect(ban.status).toBe(200);
    await peer.until(() => peer.closed !== null);
    expect(peer.closed).toMatchObject({ code: SessionClose.banned });
    const again = await sendUpgrade(node, await upgradeHeaders(node));
    expect(again.status).toBe(403);
    expect((await errorBody(again)).code).toBe("node_banned");
    expect(await listed(node.id)).toBeUndefined();
  });

  it("takes the node out of routing when its session closes", async () => {
    const node = await newNode();
    const peer = await SessionPeer.live(node);
    expect(await listed(node.id)).toBeDefined();
    peer.ws.close(1000, "bye");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await listed(node.id)).toBeUndefined();
    const res = await relay(node, "{}");
    expect(res.status).toBe(503);
  });

  it("keeps a node whose session dropped listed for the reconnect grace, and unlists it if it does not come back", async () => {
    // The Workers-test bindings set SESSION_RECONNECT_WINDOW_MS to 200 ms: a grace of 1.4 s.
    const node = await newNode();
    const peer = await SessionPeer.live(node);
    peer.ws.close(4000, "network blip");
    await peer.until(() => peer.closed !== null);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await listed(node.id)).toMatchObject({ transport: "session" });
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    expect(await listed(node.id)).toBeUndefined();
  });

  it("does not unlist a node that came back within the grace when the grace ends", async () => {
    const node = await newNode();
    const first = await SessionPeer.live(node);
    first.ws.close(4000, "network blip");
    await first.until(() => first.closed !== null);
    const second = await SessionPeer.open(node);
    await second.next((m) => m.type === "welcome");
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    expect(await listed(node.id)).toMatchObject({ transport: "session" });
    second.ws.close(1000);
  });

  it("serves a reconnecting node at once on its last accepted state, and still hears a changed one", async () => {
    const node = await newNode();
    const first = await SessionPeer.live(node, ["model-a"], 2);
    first.ws.close(1000, "network blip");
    await first.until(() => first.closed !== null);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await listed(node.id)).toBeUndefined();

    // Before the node repeats its state, it is listed and served through the new session.
    const second = await SessionPeer.open(node);
    await second.next((m) => m.type === "welcome");
    expect(await listed(node.id)).toMatchObject({ transport: "session", capacity: 2, models: [{ id: "model-a" }] });
    const answer = relay(node, '{"model":"model-a"}');
    await second.frame(isRequest);
    second.ws.close(1000);
    expect((await answer).status).toBeGreaterThanOrEqual(500);

    const third = await SessionPeer.live(node, ["model-b"], 5);
    expect(await listed(node.id)).toMatchObject({ capacity: 5, models: [{ id: "model-b" }] });
    third.ws.close(1000);
  });

  it("acknowledges a state sent again on reconnect without passing it to the registry", async () => {
    const node = await newNode();
    const first = await SessionPeer.live(node);
    first.ws.close(1000);
    await first.until(() => first.closed !== null);
    const second = await SessionPeer.open(node);
    await second.next((m) => m.type === "welcome");
    const resumedAt = await registryLastHeard(node.id);
    await new Promise((resolve) => setTimeout(resolve, 20));
    second.ws.send(JSON.stringify({ type: "state", models: [{ id: "test-model" }], capacity: 4 }));
    expect(await second.next((m) => m.type === "state.ack")).toMatchObject({ accepted: true });
    expect(await registryLastHeard(node.id)).toBe(resumedAt);
    second.ws.send(JSON.stringify({ type: "state", models: [{ id: "test-model" }], capacity: 3 }));
    await second.until(() => second.messages.filter((m) => m.type === "state.ack").length === 2);
    expect(await registryLastHeard(node.id)).toBeGreaterThan(resumedAt);
    second.ws.close(1000);
  });
});

async function registryHasNode(nodeId: string): Promise<boolean> {
  return runInDurableObject(nodeRegistry(env), (_registry, state) => {
    return state.storage.sql.exec("SELECT 1 FROM nodes WHERE id = ?", nodeId).toArray().length > 0;
  });
}

/** When the registry last heard about the node (a session's state or close sets it). */
async function registryLastHeard(nodeId: string): Promise<number> {
  return runInDurableObject(nodeRegistry(env), (_registry, state) => {
    const row = state.storage.sql.exec<{ last_heartbeat: number }>(
      "SELECT last_heartbeat FROM nodes WHERE id = ?",
      nodeId,
    );
    return row.one().last_heartbeat;
  });
}

/** The registry's URL columns for the node. */
async function registryUrl(
  nodeId: string,
): Promise<{ url: string; verified_url: string | null; origin: string | null }> {
  return runInDurableObject(nodeRegistry(env), (_registry, state) =>
    state.storage.sql
      .exec<{ url: string; verified_url: string | null; origin: string | null }>(
        "SELECT url, verified_url, origin FROM nodes WHERE id = ?",
        nodeId,
      )
      .one(),
  );
}

/** As if the node's last heartbeat (or accepted state) were a minute old: past the TTL. */
async function ageLastHeard(nodeId: string): Promise<void> {
  await runInDurableObject(nodeRegistry(env), (_registry, state) => {
    state.storage.sql.exec("UPDATE nodes SET last_heartbeat = ? WHERE id = ?", Date.now() - 60_000, nodeId);
  });
}

async function sendState(peer: SessionPeer, state: Record<string, unknown>): Promise<void> {
  const acks = peer.messages.filter((m) => m.type === "state.ack").length;
  peer.ws.send(JSON.stringify({ type: "state", models: [{ id: "test-model" }], capacity: 4, ...state }));
  await peer.until(() => peer.messages.filter((m) => m.type === "state.ack").length > acks);
  expect(peer.messages.filter((m) => m.type === "state.ack").at(-1)).toMatchObject({ accepted: true });
}

let hybridPort = 9400;

describe("node sessions: a listening node's liveness", () => {
  it("keeps a proven URL its state names: dispatched to directly, live through the session without heartbeats", async () => {
    const node = await newNode();
    const url = `http://127.0.0.1:${hybridPort++}/`;
    expect((await registerRoutable(node, { url })).ok).toBe(true);
    const peer = await SessionPeer.open(node);
    await peer.next((m) => m.type === "welcome");
    await sendState(peer, { url });
    expect(await registryUrl(node.id)).toMatchObject({ url, verified_url: url, origin: expect.any(String) });
    expect(await listed(node.id)).toMatchObject({ url, transport: "direct" });

    // Its heartbeats stop: the session keeps it listed, at its URL.
    await ageLastHeard(node.id);
    expect(await listed(node.id)).toMatchObject({ url, transport: "direct" });

    // The session closes: with no heartbeat within the TTL, it is out of routing at once.
    peer.ws.close(1000, "bye");
    await peer.until(() => peer.closed !== null);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await listed(node.id)).toBeUndefined();

    // Its heartbeats resume: listed again at its proven URL, without a new proof.
    expect(await (await register(node, { url })).json()).toMatchObject({ status: "active" });
    expect(await listed(node.id)).toMatchObject({ url, transport: "direct" });
  });

  it("drops the URL when the state names another or none, and never takes one from a session", async () => {
    const node = await newNode();
    const url = `http://127.0.0.1:${hybridPort++}/`;
    expect((await registerRoutable(node, { url })).ok).toBe(true);
    const peer = await SessionPeer.open(node);
    await peer.next((m) => m.type === "welcome");
    await sendState(peer, { url: `http://127.0.0.1:${hybridPort++}/` });
    expect(await registryUrl(node.id)).toEqual({ url: "", verified_url: null, origin: null });
    expect(await listed(node.id)).toMatchObject({ url: "", transport: "session" });

    // Naming the URL it proved before does not bring it back: only a heartbeat registers a URL, a proof proves it.
    await sendState(peer, { url, capacity: 5 });
    expect(await registryUrl(node.id)).toEqual({ url: "", verified_url: null, origin: null });
    expect(await listed(node.id)).toMatchObject({ url: "", transport: "session", capacity: 5 });

    // A heartbeat registers it again, unproven: still reached through the session, not at the URL.
    expect(await (await register(node, { url })).json()).toMatchObject({ status: "pending_verification" });
    expect(await listed(node.id)).toMatchObject({ url: "", transport: "session" });

    // A state without a URL drops even a proven one.
    const other = await newNode();
    const otherUrl = `http://127.0.0.1:${hybridPort++}/`;
    expect((await registerRoutable(other, { url: otherUrl })).ok).toBe(true);
    const otherPeer = await SessionPeer.live(other);
    expect(await registryUrl(other.id)).toEqual({ url: "", verified_url: null, origin: null });
    expect(await listed(other.id)).toMatchObject({ url: "", transport: "session" });
    peer.ws.close(1000);
    otherPeer.ws.close(1000);
  });

  it("keeps the URL a node registers after its state named it, and routes to it there once proven", async () => {
    const node = await newNode();
    const url = `http://127.0.0.1:${hybridPort++}/`;
    const peer = await SessionPeer.open(node);
    await peer.next((m) => m.type === "welcome");
    await sendState(peer, { url });
    expect(await listed(node.id)).toMatchObject({ url: "", transport: "session" });
    // Its heartbeats run until the URL is proven: the load a last one reports would freeze once they pause.
    expect((await registerRoutable(node, { url, in_flight: 3 })).ok).toBe(true);
    expect(await listed(node.id)).toMatchObject({ url, transport: "direct", in_flight: 0 });

    // A reconnect resumes the state that names the URL: the proof stands.
    peer.ws.close(1000);
    await peer.until(() => peer.closed !== null);
    const again = await SessionPeer.open(node);
    await again.next((m) => m.type === "welcome");
    await ageLastHeard(node.id);
    expect(await listed(node.id)).toMatchObject({ url, transport: "direct" });
    expect(await registryUrl(node.id)).toMatchObject({ url, verified_url: url });
    again.ws.close(1000);
  });
});

describe("node sessions: relaying", () => {
  it("sends the signed request down the session and streams the node's answer back", async () => {
    const node = await newNode();
    const peer = await SessionPeer.live(node);
    const answer = relay(node, '{"model":"test-model"}');
    const request = await peer.frame(isRequest);
    const head = RelayedRequestSchema.parse(JSON.parse(text(request.payload)));
    const headers = new Map(head.headers);
    expect(head).toMatchObject({ method: "POST", path: "/v1/chat/completions", body_bytes: 22 });
    expect(headers.get("host")).toBe(SESSION_AUTHORITY);
    expect(headers.get("meshgate-node")).toBe(node.id);
    expect(headers.get("signature-input")).toBeDefined();
    await peer.frame((f) => f.type === FrameType.requestEnd && f.stream === request.stream);
    const body = peer.frames.filter((f) => f.type === FrameType.requestBody && f.stream === request.stream);
    expect(body.map((f) => text(f.payload)).join("")).toBe('{"model":"test-model"}');

    await peer.answer(request.stream, 200, [["content-type", "text/event-stream"]], ["data: one\n\n", "data: two\n\n"]);
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(await res.text()).toBe("data: one\n\ndata: two\n\n");
    peer.ws.close(1000);
  });

  it("never lets a node's answer pass for the session's own \"not there\"", async () => {
    const node = await newNode();
    const peer = await SessionPeer.live(node);
    const answer = relay(node, '{"model":"test-model"}');
    const request = await peer.frame(isRequest);
    await peer.answer(request.stream, 503, [[RELAY_FAILURE_HEADER, "node_not_connected"]], ["{}"]);
    const res = await answer;
    expect(res.status).toBe(503);
    expect(res.headers.get(RELAY_FAILURE_HEADER)).toBeNull();
    await res.text();
    peer.ws.close(1000);
    await peer.until(() => peer.closed !== null);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const gone = await relay(node, "{}");
    expect(gone.status).toBe(503);
    expect(gone.headers.get(RELAY_FAILURE_HEADER)).toBe("node_not_connected");
  });

  it("refuses past the node's capacity at the session, without asking the node", async () => {
    const node = await newNode();
    const peer = await SessionPeer.live(node, ["test-model"], 1);
    const first = relay(node, "{}");
    await peer.frame(isRequest);
    const second = await relay(node, "{}");
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(peer.frames.filter(isRequest)).toHaveLength(1);
    await peer.answer(peer.frames.find(isRequest)!.stream, 200, [], ["ok"]);
    expect((await first).status).toBe(200);
    peer.ws.close(1000);
  });

  it("tells the node to stop when the gateway stops reading", async () => {
    const node = await newNode();
    const peer = await SessionPeer.live(node);
    const answer = relay(node, "{}");
    const request = await peer.frame(isRequest);
    await peer.send(FrameType.response, request.stream, JSON.stringify({ status: 200, headers: [] }));
    await peer.send(FrameType.responseBody, request.stream, "first");
    const res = await answer;
    const reader = res.body!.getReader();
    expect(text((await reader.read()).value!)).toBe("first");
    await reader.cancel();
    await peer.frame((f) => f.type === FrameType.cancel && f.stream === request.stream);
    peer.ws.close(1000);
  });

  it("tells the node to stop when the gateway gives up before the answer's head", async () => {
    const node = await newNode();
    const peer = await SessionPeer.live(node);
    const abort = new AbortController();
    const answer = relay(node, "{}", abort.signal).catch((err: unknown) => err);
    const request = await peer.frame(isRequest);
    abort.abort();
    await peer.frame((f) => f.type === FrameType.cancel && f.stream === request.stream);
    // The caller gave up: whatever it gets (an abort error) is not the node's answer.
    const gotten = await answer;
    expect(gotten instanceof Response ? gotten.status : "aborted").not.toBe(200);
    peer.ws.close(1000);
  });

  it("grants credit as the answer is read, and ends a session that sends more than it was granted", async () => {
    const node = await newNode();
    const peer = await SessionPeer.live(node);
    const answer = relay(node, "{}");
    const request = await peer.frame(isRequest);
    await peer.send(FrameType.response, request.stream, JSON.stringify({ status: 200, headers: [] }));
    const chunk = new Uint8Array(64 * 1024);
    for (let sent = 0; sent < STREAM_WINDOW_BYTES; sent += chunk.byteLength)
      await peer.send(FrameType.responseBody, request.stream, chunk);
    const reader = (await answer).body!.getReader();
    let read = 0;
    while (read < STREAM_WINDOW_BYTES / 2) read += (await reader.read()).value!.byteLength;
    const credit = await peer.frame((f) => f.type === FrameType.credit && f.stream === request.stream);
    expect(decodeCredit(credit.payload)).toBeGreaterThanOrEqual(STREAM_WINDOW_BYTES / 4);

    // Past the window and every credit: the node broke the protocol.
    for (let sent = 0; sent <= STREAM_WINDOW_BYTES; sent += chunk.byteLength)
      await peer.send(FrameType.responseBody, request.stream, chunk);
    await peer.until(() => peer.closed !== null);
    expect(peer.closed).toMatchObject({ code: SessionClose.protocolError });
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return;
      })(),
    ).rejects.toThrow();
  });

  it("ends a session that sends a malformed frame", async () => {
    const node = await newNode();
    const peer = await SessionPeer.live(node);
    peer.ws.send(new Uint8Array([1, 2, 3]));
    await peer.until(() => peer.closed !== null);
    expect(peer.closed).toMatchObject({ code: SessionClose.protocolError });
  });
});

function chunk(delta: Record<string, string>, finish: string | null = null): string {
  const choices = [{ index: 0, delta, finish_reason: finish }];
  return `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "session-chat", choices })}\n\n`;
}

const USAGE_CHUNK = `data: ${JSON.stringify({
  id: "c",
  object: "chat.completion.chunk",
  created: 1,
  model: "session-chat",
  choices: [],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
})}\n\n`;

const SSE: [string, string][] = [["content-type", "text/event-stream"]];

describe("node sessions: the inference path", () => {
  it("answers a client's chat through a node in session, named and metered like a direct node's", async () => {
    const node = await newNode();
    const peer = await SessionPeer.live(node, ["session-chat"]);
    invalidateNodeSnapshot();
    const { key } = await createApiKey();
    const body = JSON.stringify({ model: "session-chat", messages: [{ role: "user", content: "hi" }] });
    const answer = clientFetch("/v1/chat/completions", key, { method: "POST", body });
    const request = await peer.frame(isRequest);
    expect(JSON.parse(text(request.payload))).toMatchObject({ path: "/v1/chat/completions" });
    const stream = [chunk({ role: "assistant", content: "Hello" }), chunk({ content: " world" }), chunk({}, "stop")];
    await peer.answer(request.stream, 200, SSE, [...stream, USAGE_CHUNK, "data: [DONE]\n\n"]);
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.headers.get("x-meshgate-node")).toBe(node.id);
    const completion = (await res.json()) as { choices: { message: { content: string } }[]; usage: unknown };
    expect(completion.choices[0]?.message.content).toBe("Hello world");
    expect(completion.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 2 });
    peer.ws.close(1000);
  });

  it("asks the node to stop through its session when a streaming client leaves", async () => {
    const node = await newNode();
    const peer = await SessionPeer.live(node, ["session-chat"]);
    invalidateNodeSnapshot();
    const { key } = await createApiKey();
    const abort = new AbortController();
    const body = JSON.stringify({ model: "session-chat", stream: true, messages: [{ role: "user", content: "hi" }] });
    const answer = clientFetch("/v1/chat/completions", key, { method: "POST", body, signal: abort.signal });
    const request = await peer.frame(isRequest);
    await peer.send(FrameType.response, request.stream, JSON.stringify({ status: 200, headers: SSE }));
    await peer.send(FrameType.responseBody, request.stream, chunk({ role: "assistant", content: "Hello" }));
    const res = await answer;
    const reader = res.body!.getReader();
    expect(text((await reader.read()).value!)).toContain("Hello");
    abort.abort();
    // The gateway's signed cancel reaches the node down the same session (or the exchange is cancelled outright).
    const stopped = await peer.frame(
      (f) =>
        (f.type === FrameType.cancel && f.stream === request.stream) ||
        (f.type === FrameType.request && text(f.payload).includes(CANCEL_PATH)),
    );
    expect(stopped).toBeDefined();
    peer.ws.close(1000);
  });
});

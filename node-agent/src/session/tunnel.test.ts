// Requests relayed down a session are served exactly as the agent's HTTP server serves a TCP request: checked,
// proxied, receipted, cancelled, and their answers held to the stream's credit.
import { createServer, type Server, type ServerResponse } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FrameType, HEALTH_PATH, RECEIPT_COMMENT_PREFIX, RECEIPT_HEADER, STREAM_WINDOW_BYTES } from "@meshgate/schemas";
import { jsonBody, newTestNode } from "@meshgate/schemas/testing";
import { startSimBackend, type SimBackend } from "../../../tools/sim-backend/server.js";
import { FakeSessionGateway, type GatewaySide } from "../../test/fake-session-gateway.js";
import { captureLog, type LogCapture } from "../../test/log-capture.js";
import { startAgent, type RunningAgent } from "../agent.js";
import { generateIdentity } from "../identity/node-identity.js";
import { close, listen } from "../server/test-listen.js";

const CHAT = "/v1/chat/completions";
const chat = (stream: boolean) => ({
  model: "sim-small",
  messages: [{ role: "user", content: "ping pong" }],
  max_tokens: 3,
  stream,
  ...(stream ? { stream_options: { include_usage: true } } : {}),
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let backend: SimBackend;
beforeAll(async () => {
  backend = await startSimBackend({ log: () => {} });
});
afterAll(() => backend.close());

interface SessionNode {
  gateway: FakeSessionGateway;
  side: GatewaySide;
  agent: RunningAgent;
  logs: LogCapture;
}

/** An agent in session mode in front of `upstreamUrl`, with its session open on a fake gateway. */
async function sessionNode(upstreamUrl = backend.url, capacity = 8): Promise<SessionNode> {
  const gateway = await FakeSessionGateway.start();
  cleanups.push(() => gateway.close());
  const logs = captureLog();
  const agent = await startAgent({
    identity: await generateIdentity(),
    gatewayUrl: gateway.url,
    upstreamUrl,
    models: [{ id: "sim-small" }],
    capacity,
    log: logs.log,
    session: {},
  });
  cleanups.push(() => agent.stop(100));
  const side = await gateway.waitForSession(1);
  await side.waitForState();
  return { gateway, side, agent, logs };
}

function header(head: { headers: [string, string][] } | null, name: string): string | undefined {
  return head?.headers.find(([key]) => key.toLowerCase() === name)?.[1];
}

describe("requests relayed down a session", () => {
  it("streams an event-stream answer, its head first, ending with the node's receipt", async () => {
    const { side } = await sessionNode();
    const relayed = await side.relay(CHAT, chat(true));
    const head = await relayed.head;
    expect(head.status).toBe(200);
    expect(header(head, "content-type")).toMatch(/^text\/event-stream/);
    const answer = await relayed.done;
    expect(answer.error).toBeNull();
    expect(answer.body).toContain("data: [DONE]\n\n");
    expect(answer.body).toContain(RECEIPT_COMMENT_PREFIX);
    // The hop between the agent's client and server is its own: none of its framing reaches the gateway.
    expect(header(head, "transfer-encoding")).toBeUndefined();
    expect(header(head, "connection")).toBeUndefined();
  });

  it("relays a whole answer with its receipt header", async () => {
    const { side } = await sessionNode();
    const answer = await (await side.relay(CHAT, chat(false))).done;
    expect(answer.head?.status).toBe(200);
    expect(header(answer.head, RECEIPT_HEADER)).toBeDefined();
    const body = JSON.parse(answer.body) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]!.message.content).toBe("ping pong ping");
  });

  it("refuses a request signed for another node, as the HTTP server does (401 wrong_node)", async () => {
    const { side, logs } = await sessionNode();
    const other = await newTestNode();
    const answer = await (await side.relay(CHAT, chat(false), { nodeId: other.id })).done;
    expect(answer.head?.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "wrong_node" } });
    expect(await logs.waitFor(/refused request/)).toContain("from=gateway-session");
  });

  it("refuses a signature that does not verify, and a replayed one", async () => {
    const { side } = await sessionNode();
    const forged = await (await side.relay(CHAT, chat(false), { signedPath: "/v1/completions" })).done;
    expect(forged.head?.status).toBe(401);
    expect(JSON.parse(forged.body)).toMatchObject({ error: { code: "bad_signature" } });

    const first = await side.relay(CHAT, chat(false));
    expect((await first.done).head?.status).toBe(200);
    const replay = await (await side.relay(CHAT, chat(false), { replayOf: first.signed })).done;
    expect(replay.head?.status).toBe(401);
    expect(JSON.parse(replay.body)).toMatchObject({ error: { code: "replayed_nonce" } });
  });

  it("answers a health probe and counts relayed requests in flight", async () => {
    const upstream = await startEndlessUpstream();
    const { side, agent } = await sessionNode(upstream.url);
    const probe = await (await side.relay(HEALTH_PATH, {})).done;
    expect(probe.head?.status).toBe(200);
    expect(JSON.parse(probe.body)).toMatchObject({ object: "node.health", in_flight: 0, capacity: 8 });
    const streaming = await side.relay(CHAT, chat(true));
    await streaming.waitForBytes(1);
    expect(agent.inFlight()).toBe(1);
  });

  it("stops the upstream within a second when the gateway cancels the stream", async () => {
    const upstream = await startEndlessUpstream();
    const { side, agent } = await sessionNode(upstream.url);
    const relayed = await side.relay(CHAT, chat(true));
    await relayed.waitForBytes(1);
    relayed.cancel();
    await withinSecond(upstream.abandoned, "the upstream request was not closed");
    await withinSecond(
      waitUntil(() => agent.inFlight() === 0),
      "the request stayed in flight",
    );
  });

  it("ends a stream whose upstream breaks mid-answer with RESPONSE_ERROR", async () => {
    const upstream = await startEndlessUpstream({ breakAfter: 3 });
    const { side } = await sessionNode(upstream.url);
    const answer = await (await side.relay(CHAT, chat(true))).done;
    expect(answer.head?.status).toBe(200);
    expect(answer.error).toBeTruthy();
  });

  it("never sends more body than the window plus the credit granted, and finishes as credit comes", async () => {
    // Far more than every buffer between the upstream and the agent holds (loopback TCP buffers reach a few MiB).
    const total = 32 * STREAM_WINDOW_BYTES;
    const upstream = await startBulkUpstream(total);
    const { side } = await sessionNode(upstream.url);
    const relayed = await side.relay(CHAT, chat(true), { autoCredit: false });
    await relayed.waitForBytes(STREAM_WINDOW_BYTES);
    // Out of credit: the agent holds the rest, however long the gateway takes.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(relayed.received()).toBe(STREAM_WINDOW_BYTES);
    // And the upstream is held back too, rather than the agent buffering its whole answer.
    expect(upstream.written()).toBeLessThan(total);
    const granting = setInterval(() => relayed.grant(STREAM_WINDOW_BYTES), 5);
    cleanups.push(async () => clearInterval(granting));
    const answer = await relayed.done;
    clearInterval(granting);
    expect(answer.error).toBeNull();
    expect(Buffer.byteLength(answer.body)).toBeGreaterThan(total);
    expect(side.overruns).toEqual([]);
  });

  it("lets an answer under way finish when stopped, refuses new requests meanwhile, then closes with 1000", async () => {
    const upstream = await startEndlessUpstream({ endAfter: 10 });
    const { side, agent } = await sessionNode(upstream.url);
    const relayed = await side.relay(CHAT, chat(true));
    await relayed.waitForBytes(1);
    const stopped = agent.stop(5_000);
    const late = await (await side.relay(CHAT, chat(false))).done;
    expect(late).toMatchObject({ head: null, error: "the node is shutting down" });
    const answer = await relayed.done;
    expect(answer.error).toBeNull();
    expect(answer.body).toContain('data: {"n":9}');
    await stopped;
    expect((await side.closed).code).toBe(1000);
  });

  it("closes the socket on a malformed frame, and opens a new session", async () => {
    const { gateway, side } = await sessionNode();
    side.socket.send(Uint8Array.of(99, 0, 0, 0, 1));
    expect((await side.closed).code).toBe(4002);
    const next = await gateway.waitForSession(2);
    expect((await (await next.relay(CHAT, chat(false))).done).head?.status).toBe(200);
  });

  it("ignores frames for streams it does not know", async () => {
    const { side } = await sessionNode();
    side.sendFrame(FrameType.requestBody, 77, jsonBody({}));
    side.sendFrame(FrameType.cancel, 78);
    const answer = await (await side.relay(CHAT, chat(false))).done;
    expect(answer.head?.status).toBe(200);
  });
});

async function withinSecond(promise: Promise<unknown>, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), 1_000)));
  try {
    await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

interface TestUpstream {
  url: string;
  /** Resolves once a request's answer was closed before the upstream finished it. */
  abandoned: Promise<void>;
  /** Body bytes handed to the socket so far. */
  written(): number;
}

async function startUpstream(
  serve: (res: ServerResponse, count: (bytes: number) => void) => void,
): Promise<TestUpstream> {
  let markAbandoned: () => void = () => {};
  const abandoned = new Promise<void>((resolve) => (markAbandoned = resolve));
  let written = 0;
  const server: Server = createServer((req, res) => {
    res.once("close", () => {
      if (!res.writableFinished) markAbandoned();
    });
    req.resume().once("end", () => serve(res, (bytes) => (written += bytes)));
  });
  const url = await listen(server);
  cleanups.push(() => close(server));
  return { url, abandoned, written: () => written };
}

/**
 * Streams an event every 20 ms until the client leaves; with `breakAfter` events it drops the connection then, with
 * `endAfter` it ends the answer.
 */
function startEndlessUpstream(options: { breakAfter?: number; endAfter?: number } = {}): Promise<TestUpstream> {
  return startUpstream((res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    let sent = 0;
    const timer = setInterval(() => {
      if (options.breakAfter !== undefined && sent >= options.breakAfter) {
        clearInterval(timer);
        return void res.destroy();
      }
      if (options.endAfter !== undefined && sent >= options.endAfter) {
        clearInterval(timer);
        return void res.end();
      }
      res.write(`data: {"n":${sent++}}\n\n`);
    }, 20);
    res.once("close", () => clearInterval(timer));
  });
}

/** Streams `total` bytes of events as fast as the client reads them. */
function startBulkUpstream(total: number): Promise<TestUpstream> {
  const event = Buffer.from(`data: ${"x".repeat(64 * 1024 - 8)}\n\n`);
  return startUpstream((res, count) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    let left = total;
    const write = (): void => {
      while (left > 0) {
        left -= event.length;
        count(event.length);
        if (!res.write(event)) return void res.once("drain", write);
      }
      res.end("data: [DONE]\n\n");
    };
    write();
  });
}

import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CANCEL_PATH,
  decodeReceipt,
  RECEIPT_COMMENT_PREFIX,
  SseDecoder,
  StreamDigest,
  webCryptoVerify,
  type Receipt,
} from "@meshgate/schemas";
import { startFakeGateway, type FakeGateway } from "../../test/fake-gateway.js";
import { send, signedRequest } from "../../test/gateway-request.js";
import { startAgent, type RunningAgent } from "../agent.js";
import { generateIdentity, type NodeIdentity } from "../identity/node-identity.js";

const PRICE = { prompt: 150_000, completion: 600_000 };
// 11 bytes of text in one message: ceil(11 / 4) + 4 = 7 estimated prompt tokens.
const MESSAGES = [{ role: "user", content: "Hello there" }];
const ESTIMATED_PROMPT_TOKENS = 7;
const USAGE = { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 };

const content = (text: string): string =>
  `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\n\n`;
const ROLE = `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] })}\n\n`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What the upstream did with one request: how it ended, and when. */
interface UpstreamCall {
  /** Resolves when the agent's connection closes: whether the upstream had finished its answer, and when. */
  closed: Promise<{ finished: boolean; at: number }>;
  written: number;
}

/** How the upstream answers a request, by its x-request-id (the agent forwards it). */
type Script = (res: ServerResponse, call: UpstreamCall) => Promise<void>;

const scripts = new Map<string, Script>();
const calls = new Map<string, UpstreamCall>();
let upstream: Server;
let gateway: FakeGateway;
let identity: NodeIdentity;
let agent: RunningAgent;
let dir: string;
let logPath: string;
let requests = 0;

/** Writes each text as its own write, `intervalMs` apart, stopping when the agent leaves; then ends or holds. */
function writes(texts: readonly string[], options: { intervalMs?: number; end?: "end" | "hold" } = {}): Script {
  return async (res, call) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const text of texts) {
      if (res.destroyed) return;
      res.write(text);
      call.written++;
      await sleep(options.intervalMs ?? 0);
    }
    if ((options.end ?? "end") === "end" && !res.destroyed) res.end();
  };
}

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const id = String(req.headers["x-request-id"]);
    let markClosed: (value: { finished: boolean; at: number }) => void = () => {};
    const call: UpstreamCall = { closed: new Promise((resolve) => (markClosed = resolve)), written: 0 };
    calls.set(id, call);
    res.once("close", () => markClosed({ finished: res.writableFinished, at: Date.now() }));
    req.resume().once("end", () => void (scripts.get(id) ?? writes([]))(res, call));
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  gateway = await startFakeGateway();
  identity = await generateIdentity();
  dir = await mkdtemp(join(tmpdir(), "node-agent-cancel-"));
  logPath = join(dir, "receipts.jsonl");
  agent = await startAgent({
    identity,
    gatewayUrl: gateway.url,
    upstreamUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    listenHost: "127.0.0.1",
    listenPort: 0,
    models: [{ id: "priced" }],
    prices: new Map([["priced", PRICE]]),
    receiptLog: logPath,
    capacity: 8,
    log: () => {},
  });
});
afterAll(async () => {
  await agent.stop(100);
  await gateway.close();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

/** An answer read as it arrives. */
interface OpenAnswer {
  requestId: string;
  res: Response;
  /** Reads until the text received so far satisfies `done`. */
  readUntil(done: (text: string) => boolean): Promise<string>;
  /** Reads to the end; the whole text received. */
  readAll(): Promise<string>;
}

async function dispatch(
  script: Script,
  body: Record<string, unknown> = { model: "priced", messages: MESSAGES, stream: true },
): Promise<OpenAnswer> {
  const requestId = `req_cancel_${++requests}`;
  scripts.set(requestId, script);
  const res = await send(
    await signedRequest(gateway.signer, `${agent.publicUrl}/v1/chat/completions`, body, {
      nodeId: agent.nodeId,
      requestId,
    }),
  );
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const readUntil = async (done: (text: string) => boolean): Promise<string> => {
    while (!done(text)) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    return text;
  };
  return { requestId, res, readUntil, readAll: () => readUntil(() => false) };
}

async function cancel(requestId: string, nodeId = agent.nodeId): Promise<Response> {
  return send(
    await signedRequest(gateway.signer, `${agent.publicUrl}${CANCEL_PATH}`, { request_id: requestId }, { nodeId }),
  );
}

/** Every event of a stream: data payloads, and comments by their text. */
function events(text: string): { data: string[]; comments: string[]; rest: number } {
  const decoder = new SseDecoder();
  const all = decoder.push(text);
  return {
    data: all.flatMap((e) => (e.data === null ? [] : [e.data])),
    comments: all.filter((e) => e.data === null).map((e) => e.raw),
    rest: decoder.buffered,
  };
}

function digestOf(payloads: readonly string[]): string {
  const digest = new StreamDigest();
  for (const data of payloads) digest.add(data);
  return digest.finish();
}

/** The stream's one receipt comment, its signature checked with the node's key. */
async function receiptOf(text: string): Promise<{ receipt: Receipt; token: string }> {
  const comments = events(text).comments.filter((c) => c.startsWith(RECEIPT_COMMENT_PREFIX));
  expect(comments).toHaveLength(1);
  const token = comments[0]!.slice(RECEIPT_COMMENT_PREFIX.length).trim();
  const signed = decodeReceipt(token);
  expect(signed).not.toBeNull();
  expect(await webCryptoVerify(identity.publicKey, signed!.signature, signed!.bytes)).toBe(true);
  return { receipt: signed!.receipt, token };
}

async function loggedReceipts(requestId: string): Promise<string[]> {
  const lines = (await readFile(logPath, "utf8").catch(() => "")).split("\n").filter((l) => l.endsWith("}"));
  return lines
    .map((l) => JSON.parse(l) as { receipt: string; request_id: string })
    .filter((l) => l.request_id === requestId)
    .map((l) => l.receipt);
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await read();
    if (ok(value)) return value;
    await sleep(10);
  }
  throw new Error("condition never held");
}

const contentChunks = (n: number): string[] => Array.from({ length: n }, (_, i) => content(` w${i}`));

describe("a cancelled stream", () => {
  it("stops the upstream at once and ends with the receipt of what was relayed, without [DONE]", async () => {
    // 400 chunks 25 ms apart: ten seconds the upstream would go on for.
    const answer = await dispatch(
      writes(
        [ROLE, ...contentChunks(400), `data: {"choices":[],"usage":${JSON.stringify(USAGE)}}\n\n`, "data: [DONE]\n\n"],
        { intervalMs: 25 },
      ),
    );
    await answer.readUntil((text) => events(text).data.length >= 4);

    const cancelledAt = Date.now();
    const res = await cancel(answer.requestId);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ object: "answer.cancel", request_id: answer.requestId });
    const closed = await calls.get(answer.requestId)!.closed;
    expect(closed.finished).toBe(false);
    expect(closed.at - cancelledAt).toBeLessThan(1_000);

    const text = await answer.readAll();
    const relayed = events(text);
    expect(relayed.rest).toBe(0);
    expect(relayed.data).not.toContain("[DONE]");
    expect(text.endsWith("\n\n")).toBe(true);
    expect(relayed.comments.at(-1)!.startsWith(RECEIPT_COMMENT_PREFIX)).toBe(true);
    const { receipt, token } = await receiptOf(text);
    const relayedContent = relayed.data.filter((d) => d.includes('"content":" w'));
    expect(relayedContent.length).toBeGreaterThanOrEqual(3);
    expect(relayedContent.length).toBeLessThan(400);
    expect(receipt).toEqual({
      request_id: answer.requestId,
      node_id: identity.nodeId,
      model: "priced",
      prompt_tokens: ESTIMATED_PROMPT_TOKENS,
      completion_tokens: relayedContent.length,
      price: PRICE,
      body_digest: digestOf(relayed.data),
      created: expect.any(Number),
    });
    expect(
      await until(
        () => loggedReceipts(answer.requestId),
        (r) => r.length > 0,
      ),
    ).toEqual([token]);
    await until(
      async () => agent.inFlight(),
      (n) => n === 0,
    );
  });

  it.each([
    ["inside a line", 'data: {"choices":[{"index":0,"delta":{"con', "\n\n"],
    ["after a line's end", 'data: {"choices":[{"index":0,"delta":{"content":"b"}}]}\n', "\n"],
    ["after a CRLF line end", 'data: {"choices":[{"index":0,"delta":{"content":"b"}}]}\r\n', "\n"],
  ])("closes the event it stopped in (%s) so the receipt comment stands alone", async (_, partial, closer) => {
    const upstreamText = content("a") + partial;
    const answer = await dispatch(writes([content("a"), partial], { end: "hold" }));
    await answer.readUntil((text) => text === upstreamText);
    expect((await cancel(answer.requestId)).status).toBe(200);
    const text = await answer.readAll();
    expect(text.startsWith(upstreamText + closer + RECEIPT_COMMENT_PREFIX)).toBe(true);
    const relayed = events(text);
    expect(relayed.rest).toBe(0);
    // Both sides decode the closed event alike: the digest covers its (cut) payload too.
    expect(relayed.data).toHaveLength(2);
    const { receipt } = await receiptOf(text);
    expect(receipt.body_digest).toBe(digestOf(relayed.data));
    expect(receipt.completion_tokens).toBe(partial.includes('"b"') ? 2 : 1);
  });

  it("bills the last usage the upstream reported while streaming, when it reported any", async () => {
    const withUsage = (k: number): string =>
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "x" } }], usage: { prompt_tokens: 31, completion_tokens: k, total_tokens: 31 + k } })}\n\n`;
    const answer = await dispatch(
      writes(
        Array.from({ length: 100 }, (_, i) => withUsage(i + 1)),
        { intervalMs: 20 },
      ),
    );
    await answer.readUntil((text) => events(text).data.length >= 3);
    expect((await cancel(answer.requestId)).status).toBe(200);
    const text = await answer.readAll();
    const relayed = events(text).data;
    const { receipt } = await receiptOf(text);
    expect(receipt).toMatchObject({
      prompt_tokens: 31,
      completion_tokens: relayed.length,
      body_digest: digestOf(relayed),
    });
  });
});

describe("cancels that stop nothing", () => {
  it("answers 404 not_in_flight for an id with no answer being relayed", async () => {
    const res = await cancel("req_never_sent");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { message: expect.any(String), type: "not_found_error", param: null, code: "not_in_flight" },
    });
  });

  it("refuses an unsigned or wrongly addressed cancel with 401, and the answer goes on to its end", async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const tail = [content("c"), `data: {"choices":[],"usage":${JSON.stringify(USAGE)}}\n\n`, "data: [DONE]\n\n"];
    const answer = await dispatch(async (res, call) => {
      await writes([ROLE, content("a")], { end: "hold" })(res, call);
      await released;
      for (const text of tail) res.write(text);
      call.written += tail.length;
      res.end();
    });
    await answer.readUntil((text) => events(text).data.length === 2);

    const unsigned = await fetch(`${agent.publicUrl}${CANCEL_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ request_id: answer.requestId }),
    });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ error: { type: "authentication_error", code: "missing_signature" } });
    const misaddressed = await cancel(answer.requestId, "O".repeat(43));
    expect(misaddressed.status).toBe(401);
    expect(await misaddressed.json()).toMatchObject({ error: { code: "wrong_node" } });

    release();
    const text = await answer.readAll();
    expect(events(text).data.at(-1)).toBe("[DONE]");
    expect((await receiptOf(text)).receipt).toMatchObject({
      prompt_tokens: USAGE.prompt_tokens,
      completion_tokens: USAGE.completion_tokens,
    });
    expect((await calls.get(answer.requestId)!.closed).finished).toBe(true);
  });

  it("answers 404 once the answer completed, and its receipt stays the one delivered", async () => {
    const answer = await dispatch(
      writes([ROLE, content("a"), `data: {"choices":[],"usage":${JSON.stringify(USAGE)}}\n\n`, "data: [DONE]\n\n"]),
    );
    const text = await answer.readAll();
    const { token } = await receiptOf(text);
    await until(
      () => loggedReceipts(answer.requestId),
      (r) => r.length > 0,
    );
    const res = await cancel(answer.requestId);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_in_flight" } });
    await sleep(50);
    expect(await loggedReceipts(answer.requestId)).toEqual([token]);
  });

  it("answers 404 for a whole (non-streamed) answer: the gateway closing its connection stops that one", async () => {
    const upstreamSide: { held?: ServerResponse } = {};
    const requestId = `req_cancel_${++requests}`;
    scripts.set(requestId, (res) => {
      upstreamSide.held = res;
      return Promise.resolve();
    });
    const pending = send(
      await signedRequest(
        gateway.signer,
        `${agent.publicUrl}/v1/chat/completions`,
        { model: "priced", messages: MESSAGES },
        { nodeId: agent.nodeId, requestId },
      ),
    );
    const held = await until(
      async () => upstreamSide.held,
      (h) => h !== undefined,
    );
    expect((await cancel(requestId)).status).toBe(404);
    held!.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ choices: [], usage: USAGE }));
    expect((await pending).status).toBe(200);
  });

  it("refuses a body that is not a cancel request", async () => {
    const wrong = await send(
      await signedRequest(gateway.signer, `${agent.publicUrl}${CANCEL_PATH}`, { id: "x" }, { nodeId: agent.nodeId }),
    );
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: { type: "invalid_request_error", code: "invalid_value" } });
    const large = await send(
      await signedRequest(
        gateway.signer,
        `${agent.publicUrl}${CANCEL_PATH}`,
        { request_id: "x", pad: "x".repeat(5000) },
        { nodeId: agent.nodeId },
      ),
    );
    expect(large.status).toBe(413);
  });
});

import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bodyDigest,
  decodeReceipt,
  nodeAmount,
  RECEIPT_COMMENT_PREFIX,
  RECEIPT_HEADER,
  SseDecoder,
  StreamDigest,
  webCryptoVerify,
  type Receipt,
} from "@meshgate/schemas";
import { startFakeGateway, type FakeGateway } from "../../test/fake-gateway.js";
import { send, signedRequest } from "../../test/gateway-request.js";
import { startAgent, type RunningAgent } from "../agent.js";
import { generateIdentity, type NodeIdentity } from "../identity/node-identity.js";
import { readBody } from "./read-body.js";

const USAGE = { prompt_tokens: 1234, completion_tokens: 567, total_tokens: 1801 };
const PRICE = { prompt: 150_000, completion: 600_000 };
// "é" is split across two writes: the witness must decode it whole, the client must get the bytes unchanged.
const STREAM_WRITES = [
  'data: {"choices":[{"delta":{"content":"h\xc3',
  '\xa9"}}],"usage":null}\n\n: keep-alive\n\ndata: {"choices":[{"delta":{"content":"!"}}],"usage":null}\n\n',
  `data: {"choices":[],"usage":${JSON.stringify(USAGE)}}\n\n`,
  "data: [DONE]\n\n",
].map((s) => Buffer.from(s, "latin1"));
// One event of over 1 MiB (its blank line comes late), then an otherwise good stream.
const OVERLONG_WRITES = [
  Buffer.from("data: "),
  ...Array.from({ length: 17 }, () => Buffer.from("x".repeat(64 * 1024))),
  Buffer.from("\n\n"),
  ...STREAM_WRITES,
];

/** What the upstream answers, chosen by the request's `scenario` field. */
async function answer(scenario: string, res: ServerResponse): Promise<void> {
  const json = (status: number, body: unknown): void =>
    void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  const stream = async (writes: readonly Buffer[], end: "end" | "break" = "end"): Promise<void> => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const write of writes) {
      res.write(write);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (end === "end") res.end();
    else res.destroy();
  };
  switch (scenario) {
    case "json":
      return json(200, {
        object: "chat.completion",
        choices: [{ message: { content: "the secret answer" } }],
        usage: USAGE,
      });
    case "embedding":
      return json(200, { object: "list", data: [], usage: { prompt_tokens: 9, total_tokens: 9 } });
    case "json-no-usage":
      return json(200, { object: "chat.completion", choices: [] });
    case "not-json":
      return void res.writeHead(200, { "content-type": "text/plain" }).end("plain words");
    case "error":
      return json(500, { error: { message: "boom", type: "api_error", param: null, code: null } });
    case "stream":
      return stream(STREAM_WRITES);
    case "stream-no-usage":
      return stream([
        Buffer.from('data: {"choices":[{"delta":{"content":"!"}}]}\n\n'),
        Buffer.from("data: [DONE]\n\n"),
      ]);
    case "stream-no-done":
      return stream(STREAM_WRITES.slice(0, 3));
    case "stream-overlong-event":
      return stream(OVERLONG_WRITES);
    case "stream-broken":
      return stream(STREAM_WRITES.slice(0, 3), "break");
    default:
      return json(400, {
        error: { message: "unknown scenario", type: "invalid_request_error", param: null, code: null },
      });
  }
}

let upstream: Server;
let gateway: FakeGateway;
let identity: NodeIdentity;
let agent: RunningAgent;
let dir: string;
let logPath: string;
let requests = 0;

beforeAll(async () => {
  upstream = createServer(async (req, res) => {
    const { scenario } = JSON.parse((await readBody(req)).toString()) as { scenario: string };
    await answer(scenario, res);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  gateway = await startFakeGateway();
  identity = await generateIdentity();
  dir = await mkdtemp(join(tmpdir(), "node-agent-receipts-"));
  logPath = join(dir, "key.json.receipts.jsonl");
  agent = await startAgent({
    identity,
    gatewayUrl: gateway.url,
    upstreamUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    listenHost: "127.0.0.1",
    listenPort: 0,
    models: [{ id: "priced" }, { id: "free" }],
    prices: new Map([["priced", PRICE]]),
    receiptLog: logPath,
    capacity: 8,
    log: () => {},
  });
});
afterAll(async () => {
  await agent.stop();
  await gateway.close();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

async function ask(
  scenario: string,
  model = "priced",
  requestId = `req_${++requests}`,
): Promise<{ res: Response; bytes: Uint8Array; requestId: string }> {
  const res = await send(
    await signedRequest(
      gateway.signer,
      `${agent.publicUrl}/v1/chat/completions`,
      { model, scenario, stream: scenario.startsWith("stream") },
      { nodeId: agent.nodeId, requestId },
    ),
  );
  return { res, bytes: new Uint8Array(await res.arrayBuffer()), requestId };
}

/** Decodes a receipt and checks the node's signature on it. */
async function verified(token: string | null | undefined): Promise<Receipt> {
  const signed = decodeReceipt(token ?? "");
  expect(signed).not.toBeNull();
  expect(await webCryptoVerify(identity.publicKey, signed!.signature, signed!.bytes)).toBe(true);
  return signed!.receipt;
}

/** The data payloads of an event stream, and its comments. */
function events(text: string): { data: string[]; comments: string[] } {
  const decoder = new SseDecoder();
  const all = [...decoder.push(text), ...decoder.flush()];
  return {
    data: all.flatMap((e) => (e.data === null ? [] : [e.data])),
    comments: all.filter((e) => e.data === null).map((e) => e.raw),
  };
}

/** The log's lines once the one for `requestId` is in: lines are appended in order, so every earlier one is too. */
async function loggedThrough(requestId: string): Promise<Record<string, unknown>[]> {
  for (;;) {
    const lines = (await readFile(logPath, "utf8")).split("\n").filter(Boolean);
    const parsed = lines.filter((l) => l.endsWith("}")).map((l) => JSON.parse(l) as Record<string, unknown>);
    if (parsed.some((l) => l["request_id"] === requestId)) return parsed;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("receipts for answers the node served", () => {
  it("signs a whole answer's receipt into a header that names the request, model, usage, price and body", async () => {
    const { res, bytes, requestId } = await ask("json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(bytes.length));
    expect(JSON.parse(Buffer.from(bytes).toString())).toMatchObject({ usage: USAGE });
    const receipt = await verified(res.headers.get(RECEIPT_HEADER));
    expect(receipt).toEqual({
      request_id: requestId,
      node_id: identity.nodeId,
      model: "priced",
      prompt_tokens: USAGE.prompt_tokens,
      completion_tokens: USAGE.completion_tokens,
      price: PRICE,
      body_digest: bodyDigest(bytes),
      created: expect.any(Number),
    });
  });

  it("charges nothing for an unpriced model, and counts an embedding's tokens as prompt tokens", async () => {
    const { res } = await ask("embedding", "free");
    expect(await verified(res.headers.get(RECEIPT_HEADER))).toMatchObject({
      model: "free",
      prompt_tokens: 9,
      completion_tokens: 0,
      price: { prompt: 0, completion: 0 },
    });
  });

  it.each(["json-no-usage", "not-json"])("passes on a %s answer without a receipt", async (scenario) => {
    const { res, bytes } = await ask(scenario);
    expect(res.status).toBe(200);
    expect(bytes.length).toBeGreaterThan(0);
    expect(res.headers.get(RECEIPT_HEADER)).toBeNull();
  });

  it("passes upstream errors on without a receipt", async () => {
    const { res, bytes } = await ask("error");
    expect(res.status).toBe(500);
    expect(JSON.parse(Buffer.from(bytes).toString())).toMatchObject({ error: { message: "boom" } });
    expect(res.headers.get(RECEIPT_HEADER)).toBeNull();
  });

  it("relays a stream's bytes unchanged and ends it with the receipt of its data payloads after [DONE]", async () => {
    const { res, bytes, requestId } = await ask("stream");
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const upstreamBytes = Buffer.concat(STREAM_WRITES);
    expect(Buffer.from(bytes.subarray(0, upstreamBytes.length)).equals(upstreamBytes)).toBe(true);
    const tail = Buffer.from(bytes.subarray(upstreamBytes.length)).toString();
    expect(tail).toMatch(new RegExp(`^${RECEIPT_COMMENT_PREFIX}[A-Za-z0-9_.-]+\\n\\n$`));
    const received = events(Buffer.from(bytes).toString("utf8"));
    expect(received.data.at(-1)).toBe("[DONE]");
    const digest = new StreamDigest();
    for (const data of received.data) digest.add(data);
    const receipt = await verified(tail.slice(RECEIPT_COMMENT_PREFIX.length).trim());
    expect(receipt).toMatchObject({
      request_id: requestId,
      model: "priced",
      prompt_tokens: USAGE.prompt_tokens,
      completion_tokens: USAGE.completion_tokens,
      price: PRICE,
      body_digest: digest.finish(),
    });
  });

  it.each(["stream-no-usage", "stream-no-done"])("ends a %s stream without a receipt", async (scenario) => {
    const { bytes } = await ask(scenario);
    expect(bytes.length).toBeGreaterThan(0);
    expect(Buffer.from(bytes).toString()).not.toContain(RECEIPT_COMMENT_PREFIX.trim());
  });

  it("relays a stream with an event of over 1 MiB unchanged, and gives it no receipt", async () => {
    const { bytes } = await ask("stream-overlong-event");
    expect(Buffer.from(bytes).equals(Buffer.concat(OVERLONG_WRITES))).toBe(true);
  });

  it("gives a stream the upstream broke off no receipt", async () => {
    const res = await send(
      await signedRequest(
        gateway.signer,
        `${agent.publicUrl}/v1/chat/completions`,
        { model: "priced", scenario: "stream-broken" },
        { nodeId: agent.nodeId },
      ),
    );
    await expect(res.text()).rejects.toThrow();
  });

  it("logs one line per receipt, in order, with its numbers and no text", async () => {
    const marker = await ask("json");
    const before = (await loggedThrough(marker.requestId)).length;
    const first = await ask("json");
    const second = await ask("stream", "free");
    await ask("json-no-usage");
    await ask("stream-no-usage");
    const last = await ask("json");
    const lines = (await loggedThrough(last.requestId)).slice(before);
    expect(lines.map((l) => l["request_id"])).toEqual([first.requestId, second.requestId, last.requestId]);
    expect(lines[0]).toEqual({
      receipt: first.res.headers.get(RECEIPT_HEADER),
      request_id: first.requestId,
      model: "priced",
      prompt_tokens: USAGE.prompt_tokens,
      completion_tokens: USAGE.completion_tokens,
      amount: nodeAmount(USAGE, PRICE),
      created: expect.any(Number),
    });
    expect(lines[1]).toMatchObject({ request_id: second.requestId, model: "free", amount: 0 });
    expect(JSON.stringify(lines)).not.toContain("secret answer");
  });
});

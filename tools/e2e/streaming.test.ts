// Streams pass through the gateway chunk by chunk: the node only sends its next chunk after the client has received
// the previous one, so any buffering between them (Miniflare, workerd, the Worker's metering) makes this fail.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../gateway/admin.js";
import { generateDevVars } from "../gateway/dev-vars.js";
import { startGateway, type Gateway } from "../gateway/gateway.js";
import { withTimeout } from "../processes/index.js";
import { startGatedNode, type GatedNode } from "./support/gated-node.js";
import { newTestNode, registerProvenNode } from "./support/heartbeat.js";
import { quietSink } from "./support/quiet.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

const MODEL = "gated-model";
const PIECES = ["one ", "two ", "three ", "four"];

describe("streamed responses through the gateway", E2E, () => {
  let gateway: Gateway;
  let node: GatedNode;
  let client: OpenAI;

  beforeAll(async () => {
    const vars = generateDevVars();
    gateway = await startGateway({ vars, sink: quietSink("gateway") });
    const identity = await newTestNode();
    node = await startGatedNode(MODEL, PIECES, identity);
    await registerProvenNode(gateway.url, identity, { url: node.url, models: [MODEL], seq: 1 });
    const { key } = await createApiKey(gateway.url, vars.ADMIN_TOKEN, "streaming-test");
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await node?.close();
    await gateway?.stop();
  }, SETUP_TIMEOUT_MS);

  it("delivers each chunk to the client before the node produces the next", async () => {
    const request = client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "count" }],
      stream: true,
    });
    const stream = await withTimeout(request, 15_000, "the response headers: the gateway is buffering the stream");
    const chunks = stream[Symbol.asyncIterator]();
    const received: string[] = [];
    for (;;) {
      const waiting = `chunk ${received.length + 1} (the node has sent ${node.sent} and waits for the client to see them)`;
      const next = await withTimeout(chunks.next(), 15_000, `${waiting}: the gateway is buffering the stream`);
      if (next.done) break;
      received.push(next.value.choices[0]?.delta.content ?? "");
      node.release();
    }
    expect(received.join("")).toBe(PIECES.join(""));
    // One chunk per piece: each arrived on its own, not coalesced into one body at the end.
    expect(received.length).toBe(PIECES.length);
  });
});

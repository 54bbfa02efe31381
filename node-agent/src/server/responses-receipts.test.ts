// The Responses API passed through a node whose upstream serves it (`--responses-api`): the path is proxied only
// then, and its answers are receipted exactly as chat answers are, read by their own events.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bodyDigest,
  decodeReceipt,
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

const USAGE = { input_tokens: 21, output_tokens: 3, total_tokens: 24 };
const event = (value: { type: string } & Record<string, unknown>): string =>
  `event: ${value.type}\ndata: ${JSON.stringify(value)}\n\n`;
const RESPONSE = { id: "resp_1", object: "response", status: "completed", output: [], usage: USAGE };
const EVENTS = [
  event({ type: "response.created", sequence_number: 0, response: { ...RESPONSE, status: "in_progress" } }),
  event({ type: "response.output_text.delta", sequence_number: 1, output_index: 0, delta: "hé" }),
  event({ type: "response.output_text.delta", sequence_number: 2, output_index: 0, delta: "llo" }),
];
const COMPLETED = event({ type: "response.completed", sequence_number: 3, response: RESPONSE });

async function answer(scenario: string, res: ServerResponse): Promise<void> {
  const stream = (writes: readonly string[]): void => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const write of writes) res.write(write);
    res.end();
  };
  switch (scenario) {
    case "stream":
      return stream([...EVENTS, COMPLETED]);
    case "stream-incomplete":
      return stream([...EVENTS, COMPLETED.replaceAll("response.completed", "response.incomplete")]);
    case "stream-no-completed":
      return stream(EVENTS);
    case "chat-stream":
      return stream([
        'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n',
        'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}\n\n',
        "data: [DONE]\n\n",
      ]);
    default:
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(RESPONSE));
  }
}

let upstream: Server;
let gateway: FakeGateway;
let identity: NodeIdentity;
let passing: RunningAgent;
let chatOnly: RunningAgent;
let requests = 0;

async function agentFor(responsesApi: boolean): Promise<RunningAgent> {
  return startAgent({
    identity,
    gatewayUrl: gateway.url,
    upstreamUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    listenHost: "127.0.0.1",
    listenPort: 0,
    models: [{ id: "m" }],
    capacity: 8,
    responsesApi,
    log: () => {},
  });
}

beforeAll(async () => {
  upstream = createServer(async (req, res) => {
    const { scenario } = JSON.parse((await readBody(req)).toString()) as { scenario: string };
    await answer(scenario, res);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  gateway = await startFakeGateway();
  identity = await generateIdentity();
  passing = await agentFor(true);
  chatOnly = await agentFor(false);
});
afterAll(async () => {
  await passing.stop();
  await chatOnly.stop();
  await gateway.close();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

async function ask(agent: RunningAgent, scenario: string): Promise<{ res: Response; text: string; id: string }> {
  const id = `req_r${++requests}`;
  const res = await send(
    await signedRequest(
      gateway.signer,
      `${agent.publicUrl}/v1/responses`,
      { model: "m", scenario, input: "hi", stream: scenario !== "whole" },
      { nodeId: agent.nodeId, requestId: id },
    ),
  );
  return { res, text: await res.text(), id };
}

async function verified(token: string): Promise<Receipt> {
  const signed = decodeReceipt(token);
  expect(signed).not.toBeNull();
  expect(await webCryptoVerify(identity.publicKey, signed!.signature, signed!.bytes)).toBe(true);
  return signed!.receipt;
}

function streamReceipt(text: string): { receipt: string | null; digest: string } {
  const decoder = new SseDecoder();
  const all = [...decoder.push(text), ...decoder.flush()];
  const digest = new StreamDigest();
  for (const e of all) if (e.data !== null) digest.add(e.data);
  const comment = all.find((e) => e.data === null && e.raw.startsWith(RECEIPT_COMMENT_PREFIX));
  return { receipt: comment ? comment.raw.slice(RECEIPT_COMMENT_PREFIX.length).trim() : null, digest: digest.finish() };
}

describe("POST /v1/responses at a node", () => {
  it("is refused as an unknown URL unless the node serves the Responses API", async () => {
    const { res } = await ask(chatOnly, "stream");
    expect(res.status).toBe(404);
  });

  it.each(["stream", "stream-incomplete"])(
    "relays a %s unchanged and receipts it with the last event's input and output tokens",
    async (scenario) => {
      const { res, text, id } = await ask(passing, scenario);
      expect(res.status).toBe(200);
      expect(text.startsWith(EVENTS.join(""))).toBe(true);
      const { receipt, digest } = streamReceipt(text);
      expect(receipt).not.toBeNull();
      expect(await verified(receipt!)).toMatchObject({
        request_id: id,
        model: "m",
        prompt_tokens: 21,
        completion_tokens: 3,
        body_digest: digest,
      });
    },
  );

  it("receipts a whole Response in a header, by its usage", async () => {
    const { res, text, id } = await ask(passing, "whole");
    const receipt = await verified(res.headers.get(RECEIPT_HEADER) ?? "");
    expect(receipt).toMatchObject({ request_id: id, prompt_tokens: 21, completion_tokens: 3 });
    expect(receipt.body_digest).toBe(bodyDigest(new TextEncoder().encode(text)));
  });

  it.each(["stream-no-completed", "chat-stream"])("gives a %s no receipt", async (scenario) => {
    const { res, text } = await ask(passing, scenario);
    expect(res.status).toBe(200);
    expect(text.length).toBeGreaterThan(0);
    expect(streamReceipt(text).receipt).toBeNull();
  });
});

import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECEIPT_HEADER } from "@meshgate/schemas";
import type { AnsweredRequest, ReceiptIssuer } from "../receipts/receipt-signer.js";
import { readBody } from "./read-body.js";
import { UpstreamProxy } from "./upstream-proxy.js";
import { listen } from "./test-listen.js";

const LIMIT = 1024;
const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };

let upstream: Server;
let front: Server;
let proxy: UpstreamProxy;
let frontUrl = "";
const issued: AnsweredRequest[] = [];
const upstreamErrors: string[] = [];

beforeAll(async () => {
  // The request body says how big an answer to send, and whether to declare its length.
  upstream = createServer(async (req, res) => {
    const { size, declared } = JSON.parse((await readBody(req)).toString()) as { size: number; declared: boolean };
    const body = JSON.stringify({ pad: "x".repeat(Math.max(0, size - 80)), usage });
    res.writeHead(
      200,
      declared
        ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) }
        : { "content-type": "application/json" },
    );
    if (declared) res.end(body);
    else {
      // Written in pieces without a length: the limit must hold while reading, not only by the header.
      for (let i = 0; i < body.length; i += 256) res.write(body.slice(i, i + 256));
      res.end();
    }
  });
  const issuer: ReceiptIssuer = {
    issue: (answer) => {
      issued.push(answer);
      return Promise.resolve(`receipt-for-${answer.requestId}`);
    },
  };
  proxy = new UpstreamProxy(
    await listen(upstream),
    { onUpstreamError: (err) => upstreamErrors.push(err.message) },
    { receipts: issuer, maxAnswerBytes: LIMIT },
  );
  front = createServer(async (req, res) => proxy.forward(req, res, "/v1/chat/completions", await readBody(req)));
  frontUrl = await listen(front);
});

afterAll(async () => {
  proxy.close();
  for (const server of [front, upstream]) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

function post(body: unknown, requestId: string | null = "req_1"): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json", "meshgate-node": "node_addressed" };
  if (requestId) headers["x-request-id"] = requestId;
  return fetch(`${frontUrl}/v1/chat/completions`, { method: "POST", headers, body: JSON.stringify(body) });
}

describe("whole answers with receipts", () => {
  it.each([true, false])(
    "passes an answer within the limit on with its receipt (length declared: %s)",
    async (declared) => {
      const res = await post({ model: "m", size: LIMIT - 10, declared }, `req_fits_${declared}`);
      expect(res.status).toBe(200);
      expect(res.headers.get(RECEIPT_HEADER)).toBe(`receipt-for-req_fits_${declared}`);
      expect((await res.arrayBuffer()).byteLength).toBe(Number(res.headers.get("content-length")));
      expect(issued.at(-1)).toMatchObject({
        requestId: `req_fits_${declared}`,
        model: "m",
        usage: { prompt_tokens: 1, completion_tokens: 2 },
        addressee: "node_addressed",
      });
    },
  );

  it.each([true, false])(
    "answers 502 upstream_answer_too_large past the limit (length declared: %s)",
    async (declared) => {
      const before = issued.length;
      const res = await post({ model: "m", size: LIMIT * 4, declared });
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({
        error: {
          message: expect.stringContaining(`${LIMIT} bytes`),
          type: "api_error",
          param: null,
          code: "upstream_answer_too_large",
        },
      });
      expect(issued.length).toBe(before);
      expect(upstreamErrors.at(-1)).toContain("larger than");
    },
  );

  it("signs nothing for a request the gateway did not name, or one without a model", async () => {
    const before = issued.length;
    const unnamed = await post({ model: "m", size: 100, declared: true }, null);
    const modelless = await post({ size: 100, declared: true }, "req_no_model");
    for (const res of [unnamed, modelless]) {
      expect(res.status).toBe(200);
      expect(res.headers.get(RECEIPT_HEADER)).toBeNull();
      expect(((await res.json()) as { usage: unknown }).usage).toEqual(usage);
    }
    expect(issued.length).toBe(before);
  });
});

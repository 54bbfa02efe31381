import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBody } from "./read-body.js";
import { UpstreamProxy } from "./upstream-proxy.js";

interface Received {
  method: string;
  url: string;
  /** Lower-cased header names as sent, with their values. */
  headers: [string, string][];
  body: string;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function pairs(req: IncomingMessage): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    out.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
  return out;
}

let upstream: Server;
let front: Server;
let proxy: UpstreamProxy;
let upstreamHost = "";
let frontUrl = "";
const received: Received[] = [];
let upstreamConnections = 0;

beforeAll(async () => {
  upstream = createServer(async (req, res) => {
    received.push({
      method: req.method ?? "",
      url: req.url ?? "",
      headers: pairs(req),
      body: (await readBody(req)).toString(),
    });
    res.setHeader("set-cookie", "session=upstream");
    res.setHeader("server", "upstream/1.0");
    res
      .writeHead(200, {
        "content-type": "application/json",
        "x-request-id": "req_upstream",
        "openai-processing-ms": "7",
      })
      .end('{"ok":true}');
  });
  upstream.on("connection", () => upstreamConnections++);
  upstreamHost = await listen(upstream);
  // The root carries a path, as behind a reverse proxy: it is prepended to every request path.
  proxy = new UpstreamProxy(`http://${upstreamHost}/base/`, { onUpstreamError: () => {} });
  front = createServer(async (req, res) => proxy.forward(req, res, "/v1/chat/completions", await readBody(req)));
  frontUrl = `http://${await listen(front)}`;
});

afterAll(async () => {
  proxy.close();
  await Promise.all([close(front), close(upstream)]);
});

describe("UpstreamProxy", () => {
  it("forwards the body with only the headers the upstream needs", async () => {
    const headers = {
      "content-type": "application/json",
      accept: "text/event-stream",
      "x-request-id": "req_1",
      signature: "sig1=:AAAA:",
      authorization: "Bearer x",
    };
    const res = await fetch(`${frontUrl}/v1/chat/completions?debug=1`, {
      method: "POST",
      headers,
      body: '{"model":"m"}',
    });
    expect(await res.json()).toEqual({ ok: true });
    const got = received.at(-1)!;
    expect(got.method).toBe("POST");
    expect(got.url).toBe("/base/v1/chat/completions");
    expect(got.body).toBe('{"model":"m"}');
    // In any order: the set is what matters, and no signature or credential goes upstream.
    expect(new Map(got.headers)).toEqual(
      new Map([
        ["host", upstreamHost],
        ["content-type", "application/json"],
        ["content-length", "13"],
        ["accept", "text/event-stream"],
        ["x-request-id", "req_1"],
        ["connection", "keep-alive"],
      ]),
    );
    expect(got.headers).toHaveLength(6);
  });

  it("passes back the answer's content headers, not the upstream's cookies or identity", async () => {
    // A byte body, unlike a string, makes fetch send no content type.
    const res = await fetch(`${frontUrl}/v1/chat/completions`, {
      method: "POST",
      body: new TextEncoder().encode("{}"),
    });
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-request-id")).toBe("req_upstream");
    expect(res.headers.get("openai-processing-ms")).toBe("7");
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(res.headers.get("server")).toBeNull();
    await res.arrayBuffer();
    // Without a content type from the client, JSON is assumed.
    expect(received.at(-1)!.headers).toContainEqual(["content-type", "application/json"]);
  });

  it("reuses one upstream connection for sequential requests", async () => {
    const before = upstreamConnections;
    for (let i = 0; i < 5; i++)
      await (await fetch(`${frontUrl}/v1/chat/completions`, { method: "POST", body: "{}" })).arrayBuffer();
    expect(upstreamConnections - before).toBeLessThanOrEqual(1);
  });
});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keepAliveAgent, send, type Probe } from "./load.js";

let server: Server;
let url: string;

beforeAll(async () => {
  // Answers as the gateway does: the node that served the request in x-meshgate-node; ?status=N for another status.
  server = createServer((req, res) => {
    const status = Number(new URL(req.url ?? "/", "http://x").searchParams.get("status") ?? 200);
    res.writeHead(status, { "x-meshgate-node": "node_a" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function answer(probe: Omit<Probe, "headers" | "body">): Promise<string | null> {
  const agent = keepAliveAgent(1);
  try {
    return (await send(agent, { ...probe, headers: {}, body: Buffer.from("{}") })).error;
  } finally {
    agent.destroy();
  }
}

describe("send", () => {
  it("accepts an answer from the node the probe expects", async () => {
    expect(await answer({ url, expectNode: "node_a" })).toBeNull();
  });

  it("fails an answer from any other node", async () => {
    expect(await answer({ url, expectNode: "node_b" })).toBe("answered by node node_a, not node_b");
  });

  it("does not look at the node when the probe names none", async () => {
    expect(await answer({ url })).toBeNull();
  });

  it("reports a failed status before the node", async () => {
    expect(await answer({ url: `${url}?status=503`, expectNode: "node_b" })).toBe("HTTP 503");
  });
});

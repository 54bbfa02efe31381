import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../../test/fake-gateway.js";
import { send, signedRequest } from "../../test/gateway-request.js";
import { startAgent, type RunningAgent } from "../agent.js";
import { generateIdentity } from "../identity/node-identity.js";

/**
 * An upstream that streams in lockstep with the test: it writes one event, then waits until the test has
 * received it through the agent before writing the next. If the agent buffered anything, the test would hang.
 */
interface LockstepUpstream {
  url: string;
  /** Lets the upstream write its next event. */
  next(): void;
  /** Resolves when the upstream's response is closed before it finished (the agent aborted it). */
  abandoned: Promise<void>;
  close(): Promise<void>;
}

async function startLockstepUpstream(events: readonly string[]): Promise<LockstepUpstream> {
  let release: () => void = () => {};
  let markAbandoned: () => void = () => {};
  const abandoned = new Promise<void>((resolve) => (markAbandoned = resolve));
  const stream = async (res: ServerResponse): Promise<void> => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const event of events) {
      if (res.destroyed) return;
      res.write(event);
      await new Promise<void>((resolve) => (release = resolve));
    }
    res.end();
  };
  const server: Server = createServer((req, res) => {
    res.once("close", () => {
      if (!res.writableFinished) markAbandoned();
    });
    req.resume().once("end", () => void stream(res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    next: () => release(),
    abandoned,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const EVENTS = ['data: {"n":1}\n\n', 'data: {"n":2}\n\n', 'data: {"n":3}\n\n', "data: [DONE]\n\n"];
let gateway: FakeGateway;
beforeAll(async () => {
  gateway = await startFakeGateway();
});
afterAll(() => gateway.close());

async function agentFor(upstream: LockstepUpstream): Promise<RunningAgent> {
  return startAgent({
    identity: await generateIdentity(),
    gatewayUrl: gateway.url,
    upstreamUrl: upstream.url,
    listenHost: "127.0.0.1",
    listenPort: 0,
    models: [{ id: "sim-small" }],
    capacity: 4,
    log: () => {},
  });
}

describe("streaming through the agent", () => {
  it("delivers each upstream chunk before the upstream writes the next", async () => {
    const upstream = await startLockstepUpstream(EVENTS);
    const agent = await agentFor(upstream);
    try {
      const res = await send(
        await signedRequest(
          gateway.signer,
          `${agent.publicUrl}/v1/chat/completions`,
          { model: "sim-small", stream: true },
          { nodeId: agent.nodeId },
        ),
      );
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      for (const event of EVENTS) {
        const chunk = await reader.read();
        expect(decoder.decode(chunk.value)).toBe(event);
        upstream.next();
      }
      expect((await reader.read()).done).toBe(true);
    } finally {
      await agent.stop();
      await upstream.close();
    }
  });

  it("aborts the upstream request when the client goes away mid-stream", async () => {
    const upstream = await startLockstepUpstream(EVENTS);
    const agent = await agentFor(upstream);
    try {
      const abort = new AbortController();
      const request = await signedRequest(
        gateway.signer,
        `${agent.publicUrl}/v1/chat/completions`,
        { model: "sim-small", stream: true },
        { nodeId: agent.nodeId },
      );
      const res = await fetch(request.url, { ...request.init, signal: abort.signal });
      await res.body!.getReader().read();
      expect(agent.inFlight()).toBe(1);
      abort.abort();
      await upstream.abandoned;
    } finally {
      await agent.stop();
      await upstream.close();
    }
  });
});

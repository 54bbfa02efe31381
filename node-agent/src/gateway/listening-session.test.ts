// A listening agent (direct mode) at a gateway with sessions: it heartbeats to have its URL proven and also holds a
// session whose state names that URL; once both hold, its heartbeats pause, and they resume whenever the session is
// down. A gateway without sessions gets heartbeats alone (heartbeat-loop.test.ts, whose fake gateway has none).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSimBackend, type SimBackend } from "../../../tools/sim-backend/server.js";
import { FakeSessionGateway } from "../../test/fake-session-gateway.js";
import { captureLog, type LogCapture } from "../../test/log-capture.js";
import { startAgent, type RunningAgent } from "../agent.js";
import { generateIdentity } from "../identity/node-identity.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let backend: SimBackend;
beforeAll(async () => {
  backend = await startSimBackend({ log: () => {} });
});
afterAll(() => backend.close());

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function start(
  status: "active" | "pending_verification" = "active",
  heartbeatResumeDelayMs = 0,
): Promise<{ gateway: FakeSessionGateway; agent: RunningAgent; logs: LogCapture }> {
  const gateway = await FakeSessionGateway.start({ heartbeatIntervalMs: 20 });
  gateway.heartbeatStatus = status;
  cleanups.push(() => gateway.close());
  const logs = captureLog();
  const agent = await startAgent({
    identity: await generateIdentity(),
    gatewayUrl: gateway.url,
    upstreamUrl: backend.url,
    models: [{ id: "sim-small" }],
    capacity: 2,
    listenHost: "127.0.0.1",
    listenPort: 0,
    heartbeatIntervalMs: 20,
    heartbeatResumeDelayMs,
    sessionTuning: { backoff: { baseMs: 10, capMs: 50 } },
    log: logs.log,
  });
  cleanups.push(() => agent.stop(100));
  return { gateway, agent, logs };
}

/** Heartbeats that arrive over `ms`. */
async function heartbeatsOver(gateway: FakeSessionGateway, ms: number): Promise<number> {
  const before = gateway.heartbeats.length;
  await pause(ms);
  return gateway.heartbeats.length - before;
}

describe("a listening agent at a gateway with sessions", () => {
  it("names its public URL in its session's state, and pauses heartbeats once that URL is proven", async () => {
    const { gateway, agent, logs } = await start();
    const side = await gateway.waitForSession(1);
    expect(await side.waitForState()).toEqual({
      type: "state",
      models: [{ id: "sim-small" }],
      capacity: 2,
      url: agent.publicUrl,
    });
    await logs.waitFor(/heartbeats paused/);
    expect(gateway.heartbeats.length).toBeGreaterThan(0);
    await pause(50); // one already on its way
    expect(await heartbeatsOver(gateway, 300)).toBe(0);
  });

  it("heartbeats on while its URL is not proven, session or not", async () => {
    const { gateway } = await start("pending_verification");
    const side = await gateway.waitForSession(1);
    await side.waitForState();
    await pause(50);
    expect(await heartbeatsOver(gateway, 300)).toBeGreaterThan(3);
  });

  it("heartbeats again while its session is down, and pauses again once it is back", async () => {
    const { gateway, logs } = await start();
    const first = await gateway.waitForSession(1);
    await logs.waitFor(/heartbeats paused/);
    const paused = logs.lines.filter((l) => l.includes("heartbeats paused")).length;
    first.socket.terminate();
    await logs.waitFor(/heartbeats resumed/);
    const second = await gateway.waitForSession(2);
    await second.waitForState();
    const deadline = Date.now() + 5_000;
    while (logs.lines.filter((l) => l.includes("heartbeats paused")).length <= paused) {
      if (Date.now() > deadline) throw new Error("heartbeats did not pause again");
      await pause(20);
    }
    await pause(50);
    expect(await heartbeatsOver(gateway, 300)).toBe(0);
  });

  it("sends no heartbeat when its dropped session is back within the resume delay", async () => {
    const { gateway, logs } = await start("active", 2_000);
    const first = await gateway.waitForSession(1);
    await logs.waitFor(/heartbeats paused/);
    await pause(50);
    const before = gateway.heartbeats.length;
    first.socket.terminate();
    await (await gateway.waitForSession(2)).waitForState();
    await pause(300);
    expect(gateway.heartbeats.length).toBe(before);
    expect(logs.lines.join("\n")).not.toMatch(/heartbeats resumed/);
  });

  it("stops both its heartbeats and its session when stopped", async () => {
    const { gateway, agent } = await start("pending_verification");
    const side = await gateway.waitForSession(1);
    await side.waitForState();
    await agent.stop(100);
    expect((await side.closed).code).toBe(1000);
    await pause(50);
    expect(await heartbeatsOver(gateway, 200)).toBe(0);
    expect(gateway.sessions).toHaveLength(1);
  });

  it("serves a request relayed down its session with the server that listens at its URL", async () => {
    const { gateway } = await start();
    const side = await gateway.waitForSession(1);
    await side.waitForState();
    const body = { model: "sim-small", messages: [{ role: "user", content: "hi" }], max_tokens: 3 };
    const answer = await (await side.relay("/v1/chat/completions", body)).done;
    expect(answer.error).toBeNull();
    expect(answer.head?.status).toBe(200);
  });
});

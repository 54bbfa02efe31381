import { afterEach, describe, expect, it } from "vitest";
import { startSimBackend, SIMULATED_OWNER, type SimBackend } from "../../../tools/sim-backend/server.js";
import { startFakeGateway, type FakeGateway } from "../../test/fake-gateway.js";
import { captureLog } from "../../test/log-capture.js";
import { startAgent, type RunningAgent } from "../agent.js";
import { generateIdentity } from "../identity/node-identity.js";
import { HeartbeatLoop } from "./heartbeat-loop.js";

const running: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of running.splice(0).reverse()) await item.close();
});

async function setup(): Promise<{ backend: SimBackend; gateway: FakeGateway }> {
  const backend = await startSimBackend({ models: ["sim-small", "sim-embed"], log: () => {} });
  const gateway = await startFakeGateway({ intervalMs: 10 });
  running.push(backend, gateway);
  return { backend, gateway };
}

function track(agent: RunningAgent): RunningAgent {
  running.push({ close: () => agent.stop() });
  return agent;
}

describe("heartbeats", () => {
  it("registers with heartbeats the gateway verifies with WebCrypto", async () => {
    const { backend, gateway } = await setup();
    const identity = await generateIdentity();
    const logs = captureLog();
    const agent = track(
      await startAgent({
        identity,
        gatewayUrl: gateway.url,
        upstreamUrl: backend.url,
        listenHost: "127.0.0.1",
        listenPort: 0,
        capacity: 12,
        log: logs.log,
      }),
    );
    const [first, second] = await gateway.waitForHeartbeats(2);
    expect(gateway.rejected).toEqual([]);
    expect(first!.keyId).toBe(identity.nodeId);
    expect(first!.heartbeat).toMatchObject({
      node_id: identity.nodeId,
      url: agent.publicUrl,
      capacity: 12,
      in_flight: 0,
      models: [
        { id: "sim-small", owned_by: SIMULATED_OWNER },
        { id: "sim-embed", owned_by: SIMULATED_OWNER },
      ],
    });
    expect(second!.heartbeat.seq).toBeGreaterThan(first!.heartbeat.seq);
    expect(await logs.waitFor(/registered with gateway/)).toContain(identity.nodeId);
  });

  it("advertises each priced model's price in the signed heartbeat, and no price for the others", async () => {
    const { backend, gateway } = await setup();
    const logs = captureLog();
    const prices = new Map([
      ["sim-small", { prompt: 150_000, completion: 600_000 }],
      ["not-served", { prompt: 1, completion: 1 }],
    ]);
    track(
      await startAgent({
        identity: await generateIdentity(),
        gatewayUrl: gateway.url,
        upstreamUrl: backend.url,
        listenHost: "127.0.0.1",
        listenPort: 0,
        capacity: 1,
        prices,
        log: logs.log,
      }),
    );
    const [first] = await gateway.waitForHeartbeats(1);
    // The fake gateway records only heartbeats whose signature verified over the body.
    expect(gateway.rejected).toEqual([]);
    expect(first!.heartbeat.models).toEqual([
      { id: "sim-small", owned_by: SIMULATED_OWNER, price: { prompt: 150_000, completion: 600_000 } },
      { id: "sim-embed", owned_by: SIMULATED_OWNER },
    ]);
    expect(await logs.waitFor(/--price names models the upstream does not serve/)).toContain("models=not-served");
  });

  it("advertises each model's context length: the upstream's max_model_len, or --context-length over it", async () => {
    const backend = await startSimBackend({ models: ["sim-small", "sim-embed"], contextLength: 4096, log: () => {} });
    const gateway = await startFakeGateway({ intervalMs: 10 });
    running.push(backend, gateway);
    const logs = captureLog();
    const contextLengths = new Map([["sim-embed", 512]]);
    track(
      await startAgent({
        identity: await generateIdentity(),
        gatewayUrl: gateway.url,
        upstreamUrl: backend.url,
        listenHost: "127.0.0.1",
        listenPort: 0,
        capacity: 1,
        contextLengths,
        log: logs.log,
      }),
    );
    const [first] = await gateway.waitForHeartbeats(1);
    expect(first!.heartbeat.models).toEqual([
      { id: "sim-small", owned_by: SIMULATED_OWNER, context_length: 4096 },
      { id: "sim-embed", owned_by: SIMULATED_OWNER, context_length: 512 },
    ]);
    expect(logs.lines.some((line) => line.includes("no known context length"))).toBe(false);
  });

  it("warns once, naming them, about models whose context length is unknown", async () => {
    const { backend, gateway } = await setup();
    const logs = captureLog();
    const contextLengths = new Map([["sim-small", 8192]]);
    track(
      await startAgent({
        identity: await generateIdentity(),
        gatewayUrl: gateway.url,
        upstreamUrl: backend.url,
        listenHost: "127.0.0.1",
        listenPort: 0,
        capacity: 1,
        contextLengths,
        log: logs.log,
      }),
    );
    const [first] = await gateway.waitForHeartbeats(1);
    expect(first!.heartbeat.models).toEqual([
      { id: "sim-small", owned_by: SIMULATED_OWNER, context_length: 8192 },
      { id: "sim-embed", owned_by: SIMULATED_OWNER },
    ]);
    const warnings = logs.lines.filter((line) => line.includes("no known context length"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("--context-length MODEL=TOKENS");
    expect(warnings[0]).toContain("models=sim-embed");
  });

  it("advertises the models given instead of asking the upstream", async () => {
    const { gateway } = await setup();
    const agent = track(
      await startAgent({
        identity: await generateIdentity(),
        gatewayUrl: gateway.url,
        upstreamUrl: "http://127.0.0.1:9",
        listenHost: "127.0.0.1",
        listenPort: 0,
        models: [{ id: "llama3" }],
        capacity: 1,
        log: () => {},
      }),
    );
    const [first] = await gateway.waitForHeartbeats(1);
    expect(first!.heartbeat.models).toEqual([{ id: "llama3" }]);
    expect(first!.heartbeat.url).toBe(agent.publicUrl);
  });

  it("keeps heartbeating through gateway errors, logging the gateway's message and the recovery", async () => {
    const { backend, gateway } = await setup();
    gateway.refuseNext(3, 409, { message: "Heartbeat refused: sequence too low.", code: "replayed_heartbeat" });
    const logs = captureLog();
    track(
      await startAgent({
        identity: await generateIdentity(),
        gatewayUrl: gateway.url,
        upstreamUrl: backend.url,
        listenHost: "127.0.0.1",
        listenPort: 0,
        capacity: 1,
        log: logs.log,
        heartbeatIntervalMs: 10,
      }),
    );
    expect(await logs.waitFor(/heartbeat recovered/)).toContain("failures=3");
    const failures = logs.lines.filter((line) => line.includes("heartbeat failed"));
    // The same failure repeated is logged once, not three times.
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain("409 replayed_heartbeat: Heartbeat refused: sequence too low.");
    await logs.waitFor(/registered with gateway/);
  });

  it("waits for a gateway that is not up yet", async () => {
    const { backend, gateway } = await setup();
    const down = await startFakeGateway();
    await down.close();
    const logs = captureLog();
    const abort = new AbortController();
    const starting = startAgent({
      identity: await generateIdentity(),
      gatewayUrl: down.url,
      upstreamUrl: backend.url,
      listenHost: "127.0.0.1",
      listenPort: 0,
      capacity: 1,
      log: logs.log,
      signal: abort.signal,
    });
    expect(await logs.waitFor(/gateway not ready, retrying/)).toContain("ECONNREFUSED");
    abort.abort();
    await expect(starting).rejects.toThrow();
    expect(gateway.heartbeats).toEqual([]);
  });
});

describe("pausing heartbeats", () => {
  it("sends none while paused, and resumes at once, keeping the sequence rising", async () => {
    const { gateway } = await setup();
    const statuses: string[] = [];
    const identity = await generateIdentity();
    const loop = new HeartbeatLoop({
      gatewayUrl: gateway.url,
      heartbeatPath: "/v1/nodes/heartbeat",
      identity: () => identity,
      publicUrl: "http://127.0.0.1:9/",
      models: [{ id: "m" }],
      capacity: 1,
      inFlight: () => 0,
      intervalMs: 10,
      log: () => {},
      onStatus: (status) => statuses.push(status),
    });
    running.push({ close: async () => loop.stop() });
    loop.start();
    await gateway.waitForHeartbeats(2);
    loop.pause();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const atPause = gateway.heartbeats.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(gateway.heartbeats.length).toBe(atPause);
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    expect(statuses.every((s) => s === "active")).toBe(true);

    loop.resume();
    const after = await gateway.waitForHeartbeats(atPause + 3);
    const seqs = after.map((h) => h.heartbeat.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});

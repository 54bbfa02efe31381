// The session's life: a signed upgrade, welcome and state, keep-alives, and what the agent does after each kind of
// close (dial again, reload its key, or stop for good).
import { afterEach, describe, expect, it } from "vitest";
import { SESSION_CONNECT_PATH, SessionClose } from "@meshgate/schemas";
import { FakeSessionGateway, type FakeSessionGatewayOptions } from "../../test/fake-session-gateway.js";
import { captureLog, type LogCapture } from "../../test/log-capture.js";
import { startAgent, type RunningAgent, type SessionAgentOptions } from "../agent.js";
import { generateIdentity, nextIdentity, type NodeIdentity } from "../identity/node-identity.js";
import { REPLACED_MESSAGE } from "./close-policy.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Short backoff, so reconnections take milliseconds. */
const FAST = { backoff: { baseMs: 10, capMs: 50 } };

interface Started {
  gateway: FakeSessionGateway;
  agent: RunningAgent;
  logs: LogCapture;
  identity: NodeIdentity;
}

async function start(
  gatewayOptions: FakeSessionGatewayOptions = {},
  agentOptions: Partial<SessionAgentOptions> = {},
): Promise<Started> {
  const gateway = await FakeSessionGateway.start(gatewayOptions);
  cleanups.push(() => gateway.close());
  const logs = captureLog();
  const identity = await generateIdentity();
  const agent = await startAgent({
    identity,
    gatewayUrl: gateway.url,
    // Never asked: the models are given, and no request is relayed.
    upstreamUrl: "http://127.0.0.1:9",
    models: [{ id: "sim-small", price: { prompt: 1, completion: 2 }, context_length: 4096 }],
    capacity: 3,
    log: logs.log,
    session: FAST,
    ...agentOptions,
  });
  cleanups.push(() => agent.stop(100));
  return { gateway, agent, logs, identity };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("node sessions", () => {
  it("dials the advertised path with a signed upgrade, then sends its state once welcomed", async () => {
    const { gateway, agent, logs, identity } = await start({ sessionPath: "/custom/connect" });
    const side = await gateway.waitForSession(1);
    expect(gateway.attempts).toEqual([
      { path: `/custom/connect/${identity.nodeId}`, keyId: identity.nodeId, error: null },
    ]);
    expect(await side.waitForState()).toEqual({
      type: "state",
      models: [{ id: "sim-small", price: { prompt: 1, completion: 2 }, context_length: 4096 }],
      capacity: 3,
    });
    const open = await logs.waitFor(/ session open .*\bnode=(\S+)/);
    expect(open).toContain(`node=${identity.nodeId} session=1 gateway=${gateway.url}`);
    // Nothing listens in this mode.
    expect(agent.url).toBe("");
    expect(agent.publicUrl).toBe("");
    await pause(50);
    expect(side.states).toHaveLength(1);
  });

  it("falls back to the protocol's path when the metadata names none", async () => {
    const { gateway, identity, logs } = await start({ sessionPath: null });
    await gateway.waitForSession(1);
    expect(gateway.attempts[0]?.path).toBe(`${SESSION_CONNECT_PATH}/${identity.nodeId}`);
    expect(logs.lines.join("\n")).toContain("names no session path");
  });

  it("reconnects by itself after a gateway restart (1012), signing afresh", async () => {
    const { gateway, logs } = await start();
    const first = await gateway.waitForSession(1);
    first.socket.close(SessionClose.restart, "deploy");
    const second = await gateway.waitForSession(2);
    await second.waitForState();
    expect(await logs.waitFor(/session closed \(1012 gateway restarting: deploy\)/)).toMatch(/retry_in_ms=\d+/);
    expect(gateway.attempts.map((a) => a.error)).toEqual([null, null]);
    expect(await logs.waitFor(/ session open .*session=2/)).toBeDefined();
  });

  it("draws its first reconnect delay from the window the gateway's welcome names", async () => {
    // The largest draw every time, so the delay is the window itself.
    const session = { backoff: { baseMs: 10, capMs: 1_000 }, random: () => 0.999_999_9 };
    const { gateway, logs } = await start({ reconnectWindowMs: 120 }, { session });
    (await gateway.waitForSession(1)).socket.close(SessionClose.restart, "deploy");
    expect(await logs.waitFor(/session closed \(1012/)).toMatch(/retry_in_ms=120\b/);
    await gateway.waitForSession(2);
  });

  it("sends its state again when the gateway's answer is lost or says it is busy, and not after it is accepted", async () => {
    const stateAnswers = [null, { accepted: false, code: "gateway_busy", message: "the gateway is busy" }];
    const { gateway, logs } = await start({ stateAnswers }, { session: { ...FAST, stateRetryMs: 50 } });
    const side = await gateway.waitForSession(1);
    await logs.waitFor(/gateway accepted this node's state/);
    expect(side.states).toHaveLength(3);
    expect(new Set(side.states.map((s) => JSON.stringify(s))).size).toBe(1);
    expect(logs.lines.join("\n")).toMatch(/no answer to this node's state; sending it again/);
    expect(logs.lines.join("\n")).toMatch(/the gateway was busy; sending it again/);
    await pause(200);
    expect(side.states).toHaveLength(3);
  });

  it("does not send a refused state again until it changes", async () => {
    const stateAnswers = [{ accepted: false, code: "price_above_ceiling", message: "too dear" }];
    const { gateway, logs } = await start({ stateAnswers }, { session: { ...FAST, stateRetryMs: 50 } });
    const side = await gateway.waitForSession(1);
    await logs.waitFor(/refused this node's state/);
    await pause(200);
    expect(side.states).toHaveLength(1);
  });

  it("reconnects after the connection drops without a close frame", async () => {
    const { gateway } = await start();
    (await gateway.waitForSession(1)).socket.terminate();
    await (await gateway.waitForSession(2)).waitForState();
  });

  it("stops for good when another agent with its key takes over (4001), and says so", async () => {
    const { gateway, agent, logs } = await start();
    (await gateway.waitForSession(1)).socket.close(SessionClose.replaced, "replaced");
    expect(await agent.halted).toBe(REPLACED_MESSAGE);
    expect(logs.lines.join("\n")).toContain(REPLACED_MESSAGE);
    await pause(200);
    expect(gateway.attempts).toHaveLength(1);
  });

  it("says when its session replaced an earlier one of the node", async () => {
    const { gateway, logs, identity } = await start({ replaced: true });
    await gateway.waitForSession(1);
    expect(await logs.waitFor(/replaced an earlier one/)).toContain(`node=${identity.nodeId}`);
  });

  it("gives up a silent gateway's socket and dials again", async () => {
    const { gateway, logs } = await start({}, { session: { ...FAST, pingIntervalMs: 20, silenceLimitMs: 100 } });
    gateway.answerPings = false;
    const first = await gateway.waitForSession(1);
    expect((await first.closed).code).toBe(1006);
    expect(await logs.waitFor(/the gateway was silent for \d+ ms/)).toContain("session closed");
    gateway.answerPings = true;
    await gateway.waitForSession(2);
  });

  it("keeps a session whose gateway answers its pings", async () => {
    // Generous against a busy test machine: 25 pings fit in the silence limit.
    const { gateway } = await start({}, { session: { ...FAST, pingIntervalMs: 20, silenceLimitMs: 500 } });
    await gateway.waitForSession(1);
    await pause(700);
    expect(gateway.sessions).toHaveLength(1);
  });

  it("logs an upgrade refusal, rereads its key on revoked_key, and dials again with the rotated key", async () => {
    let reloads = 0;
    let rotated: NodeIdentity | null = null;
    const { gateway, logs, identity } = await start(
      {},
      {
        reloadIdentity: async () => {
          reloads += 1;
          return rotated!;
        },
      },
    );
    await gateway.waitForSession(1);
    rotated = await nextIdentity(identity);
    gateway.refuseNext(1, 401, { message: "this key was rotated out", code: "revoked_key" });
    gateway.sessions[0]!.socket.close(SessionClose.restart);
    const second = await gateway.waitForSession(2);
    expect(await logs.waitFor(/the gateway refused the session/)).toContain(
      "401 revoked_key: this key was rotated out",
    );
    expect(reloads).toBe(1);
    expect(second.keyId).toBe(rotated.signer.keyId);
    expect(second.nodeId).toBe(identity.nodeId);
  });

  it("reloads its key and dials at once when the gateway closes with key rotated (4004)", async () => {
    let reloads = 0;
    const { gateway, identity } = await start(
      {},
      {
        session: { backoff: { baseMs: 60_000, capMs: 60_000 } },
        reloadIdentity: async () => {
          reloads += 1;
          return identity;
        },
      },
    );
    (await gateway.waitForSession(1)).socket.close(SessionClose.keyRotated);
    // With a one-minute backoff, only an immediate reconnection arrives in time.
    await gateway.waitForSession(2);
    expect(reloads).toBe(1);
  });

  it("closes its session with 1000 when stopped, and does not dial again", async () => {
    const { gateway, agent } = await start();
    const side = await gateway.waitForSession(1);
    await side.waitForState();
    await agent.stop(100);
    expect((await side.closed).code).toBe(1000);
    await pause(100);
    expect(gateway.attempts).toHaveLength(1);
  });

  it("keeps dialling while the gateway is down, and opens the session once it is back", async () => {
    const { gateway, logs } = await start({
      refuseFirst: { count: 3, status: 503, error: { message: "starting", code: "unavailable" } },
    });
    await gateway.waitForSession(1);
    expect(gateway.attempts.length).toBe(4);
    expect(logs.lines.filter((line) => line.includes("refused the session: 503 unavailable: starting"))).toHaveLength(
      3,
    );
  });
});

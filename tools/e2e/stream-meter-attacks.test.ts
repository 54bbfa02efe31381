// A modified node agent against the gateway's stream meter, end to end (a tampering proxy in front of a stock agent):
// an event that never ends is cut at its bound, answered with an error event and counted against the node, while
// other clients of the same gateway go on unslowed; empty chunks sent at once do not count as a first token.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForNode } from "../gateway/nodes.js";
import { startNodeAgent, type NodeAgent } from "../processes/index.js";
import { CHAT_MODEL, startCluster, type Cluster } from "./support/cluster.js";
import { quietSink } from "./support/quiet.js";
import { parseServerTiming } from "../gateway/server-timing.js";
import { startTamperingProxy, type TamperingProxy } from "./support/tampering-proxy.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

const FIRST_TOKEN_TIMEOUT_MS = 3_000;

describe("a node that breaks the stream meter's bounds", E2E, () => {
  let cluster: Cluster;
  let proxy: TamperingProxy;
  let tampering: NodeAgent;

  beforeAll(async () => {
    cluster = await startCluster({
      agents: 2,
      name: "stream-meter",
      vars: { FIRST_TOKEN_TIMEOUT_MS: String(FIRST_TOKEN_TIMEOUT_MS) },
    });
    proxy = await startTamperingProxy();
    tampering = await startNodeAgent({
      name: "tampering",
      gatewayUrl: cluster.gateway.url,
      upstreamUrl: cluster.backend.url,
      keyFile: join(cluster.scratch, "tampering.key"),
      sink: quietSink("tampering"),
      publicUrl: proxy.url,
    });
    proxy.target = tampering.url;
    await waitForNode(cluster.gateway.url, tampering.nodeId);
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await proxy?.close();
    await tampering?.process.stop();
    await cluster?.stop();
  }, SETUP_TIMEOUT_MS);

  const post = (body: Record<string, unknown>, signal?: AbortSignal) =>
    fetch(`${cluster.gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${cluster.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: CHAT_MODEL,
        messages: [{ role: "user", content: "one two three" }],
        max_tokens: 8,
        ...body,
      }),
      ...(signal ? { signal } : {}),
    });
  const honest = () => ({ provider: { ignore: [tampering.nodeId] } });

  it(
    "ends an event that never ends at its bound with an error event, and other clients are not slowed " + "meanwhile",
    async () => {
      proxy.tamper = { kind: "endless_event", bytes: 64 * 1024 * 1024 };
      const attack = (async () => {
        const res = await post({ stream: true, provider: { only: [tampering.nodeId] } }, AbortSignal.timeout(50_000));
        expect(res.status).toBe(200);
        return res.text();
      })();
      // Other clients, one after another, while the attack streams.
      const others: number[] = [];
      for (let i = 0; i < 8; i++) {
        const started = Date.now();
        const res = await post({ stream: i % 2 === 0, ...honest() });
        expect(res.status).toBe(200);
        await res.text();
        others.push(Date.now() - started);
      }
      const seen = await attack;
      expect(seen).toContain('"content":"hi"');
      expect(seen).toContain('"code":"upstream_stream_error"');
      // Nothing of the unfinished event reached the client, and the gateway stopped reading past its 1 MiB bound.
      expect(seen.length).toBeLessThan(4_096);
      expect(proxy.endlessBytesTaken).toBeLessThan(8 * 1024 * 1024);
      // Before the bound, rescanning the pending event on every chunk held the isolate for seconds per MiB.
      expect(Math.max(...others)).toBeLessThan(3_000);
    },
  );

  it("does not take empty chunks for a first token: the node's time is to its first content", async () => {
    proxy.tamper = { kind: "empty_first", count: 5, delayMs: 1_000 };
    const res = await post({ stream: true, provider: { only: [tampering.nodeId] } });
    expect(res.status).toBe(200);
    const timing = parseServerTiming(res.headers.get("server-timing"));
    await res.text();
    expect(timing.get("node") ?? 0).toBeGreaterThanOrEqual(1_000);
  });

  it("fails over from a node whose empty chunks outlast the first-token deadline", async () => {
    proxy.tamper = { kind: "empty_first", count: 5, delayMs: FIRST_TOKEN_TIMEOUT_MS + 2_000 };
    const res = await post({ stream: true, provider: { order: [tampering.nodeId] } });
    expect(res.status).toBe(200);
    await res.text();
    expect(res.headers.get("x-meshgate-node")).not.toBe(tampering.nodeId);
    expect(res.headers.get("x-meshgate-attempts")).toBe("2");
  });
});

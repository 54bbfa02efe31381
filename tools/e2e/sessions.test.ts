// Nodes behind NAT: real agents with no public URL and no listening port dial the gateway over WebSocket and serve
// real clients through their sessions. The acceptance, end to end with real processes: answers streamed and
// not (a 2,000-chunk stream whole, usage included), a client leaving frees the node's upstream, a killed agent costs
// no client an error, a second agent with the same key takes over and the first says so and stops, a banned node's
// session closes, a client cannot open a node's session, and a restarted gateway gets its agents back by themselves.
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../gateway/admin.js";
import { startGateway, type Gateway } from "../gateway/gateway.js";
import { listNodes, waitForNode } from "../gateway/nodes.js";
import { pollUntil, startNodeAgent, type NodeAgent } from "../processes/index.js";
import { listeningPorts } from "../processes/listening-sockets.js";
import { CHAT_MODEL, startCluster, type Cluster } from "./support/cluster.js";
import { quietSink } from "./support/quiet.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";
import { usageOnceRecorded } from "./support/usage.js";

const LONG_STREAM_TOKENS = 2_000;

describe("agents behind NAT, in session", E2E, () => {
  let cluster: Cluster;
  let replacement: NodeAgent | undefined;
  let restarted: Gateway | undefined;
  beforeAll(async () => {
    // A token every millisecond: a long stream is still in flight when its client leaves.
    const node = { tokenIntervalMs: 1 };
    cluster = await startCluster({
      agents: 3,
      name: "sessions",
      session: true,
      capacity: 8,
      nodes: [node, node, node],
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await replacement?.process.stop();
    await restarted?.stop();
    await cluster?.stop();
  }, SETUP_TIMEOUT_MS);

  it("serve with no listening port at all, listed as reached through their sessions", async () => {
    for (const agent of cluster.agents) {
      expect(agent.process.running).toBe(true);
      expect(listeningPorts(agent.process.pid)).toEqual([]);
    }
    const nodes = await listNodes(cluster.gateway.url);
    for (const agent of cluster.agents)
      expect(nodes.find((n) => n.id === agent.nodeId)).toMatchObject({ transport: "session", url: "" });
  });

  it("answer the official SDK, streamed and not; a 2,000-chunk stream arrives whole with its usage", async () => {
    const reply = await cluster.client.chat.completions.create({
      model: CHAT_MODEL,
      messages: [{ role: "user", content: "hello from behind a NAT" }],
    });
    expect(reply.choices[0]?.message.content).toBeTruthy();
    expect(reply.usage?.completion_tokens).toBeGreaterThan(0);

    const stream = await cluster.client.chat.completions.create({
      model: CHAT_MODEL,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: LONG_STREAM_TOKENS,
      messages: [{ role: "user", content: "a long answer, please" }],
    });
    let contentChunks = 0;
    let usage: { completion_tokens: number } | undefined;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) contentChunks++;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(contentChunks).toBe(LONG_STREAM_TOKENS);
    expect(usage?.completion_tokens).toBe(LONG_STREAM_TOKENS);
    // Metered and receipted as a direct node's answers are.
    const report = await usageOnceRecorded(cluster.gateway.url, cluster.apiKey, 2);
    for (const row of report.data) expect(row).toMatchObject({ status: 200, billable: true, receipt_status: "ok" });
  });

  it("free the node's upstream within about a second of the client leaving mid-stream", async () => {
    const abandonedBefore = cluster.backends.reduce((sum, b) => sum + b.stats().streamsAbandoned, 0);
    const abort = new AbortController();
    const stream = await cluster.client.chat.completions.create(
      { model: CHAT_MODEL, stream: true, max_tokens: 8_000, messages: [{ role: "user", content: "go on" }] },
      { signal: abort.signal },
    );
    let seen = 0;
    try {
      for await (const chunk of stream) {
        if (!chunk.choices[0]?.delta.content) continue;
        // Chunks the SDK had already read when it was aborted may still come out of the loop: stop counting at 20.
        if (++seen === 20) {
          abort.abort();
          break;
        }
      }
    } catch {
      // The SDK may end the loop quietly or throw its abort error: either way the client has left.
    }
    expect(seen).toBe(20);
    const left = Date.now();
    await pollUntil(
      () => {
        const stats = cluster.backends.map((b) => b.stats());
        const abandoned = stats.reduce((sum, s) => sum + s.streamsAbandoned, 0);
        return abandoned > abandonedBefore && stats.every((s) => s.active === 0) ? true : undefined;
      },
      { what: "the backend to see its stream abandoned", timeoutMs: 5_000, intervalMs: 20 },
    );
    // 8,000 tokens at 1 ms each would run 8 s: the upstream was stopped, not left to finish.
    expect(Date.now() - left).toBeLessThan(2_000);
  });

  it("cannot be reached by a client: opening a node's session takes the node's signature", async () => {
    const target = cluster.agents[0]!.nodeId;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${cluster.gateway.url}/v1/nodes/connect/${target}`, {
        headers: {
          authorization: `Bearer ${cluster.apiKey}`,
          connection: "Upgrade",
          upgrade: "websocket",
          "sec-websocket-version": "13",
          "sec-websocket-key": randomBytes(16).toString("base64"),
        },
      });
      req.once("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once("upgrade", (_res, socket) => {
        socket.destroy();
        resolve(101);
      });
      req.once("error", reject);
      req.end();
    });
    expect(status).toBe(401);
  });

  it("lose no client request when an agent is killed", async () => {
    const victim = cluster.agents[2]!;
    const ask = () =>
      cluster.client.chat.completions.create({
        model: CHAT_MODEL,
        messages: [{ role: "user", content: "still answering?" }],
        max_tokens: 40,
      });
    // Fewer at once than the two surviving nodes' 16 slots: a refusal for capacity would be a client error too.
    const inFlight = Array.from({ length: 6 }, () => ask());
    await new Promise((resolve) => setTimeout(resolve, 15));
    victim.process.kill("SIGKILL");
    const after = Array.from({ length: 6 }, () => ask());
    const replies = await Promise.all([...inFlight, ...after]);
    for (const reply of replies) expect(reply.choices[0]?.message.content).toBeTruthy();
    await pollUntil(
      async () => ((await listNodes(cluster.gateway.url)).some((n) => n.id === victim.nodeId) ? undefined : true),
      {
        what: "the killed node to leave the list",
        timeoutMs: 20_000,
      },
    );
  });

  it("let a second agent with the same key take over: the first says so and stops", async () => {
    const first = cluster.agents[0]!;
    replacement = await startNodeAgent({
      name: "agent-1-again",
      gatewayUrl: cluster.gateway.url,
      upstreamUrl: cluster.backends[0]!.url,
      keyFile: first.keyFile,
      session: true,
      capacity: 8,
      sink: quietSink("agent-1-again"),
    });
    expect(replacement.nodeId).toBe(first.nodeId);
    const exit = await first.process.exited;
    expect(exit.code).not.toBe(0);
    expect(first.process.history.join("\n")).toMatch(/another agent with this node's key connected/);
    // Its log line may follow the first agent's exit by a moment.
    const history = replacement.process.history;
    await pollUntil(() => (/replaced an earlier one/.test(history.join("\n")) ? true : undefined), {
      what: "the replacement to log that it replaced an earlier session",
      timeoutMs: 10_000,
    });
    const reply = await cluster.client.chat.completions.create({
      model: CHAT_MODEL,
      messages: [{ role: "user", content: "who answers now?" }],
    });
    expect(reply.choices[0]?.message.content).toBeTruthy();
  });

  it("close a banned node's session at once and keep it out", async () => {
    const banned = cluster.agents[1]!;
    const res = await fetch(`${cluster.gateway.url}/admin/nodes/${banned.nodeId}/ban`, {
      method: "POST",
      headers: { authorization: `Bearer ${cluster.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ reason: "e2e" }),
    });
    expect(res.status).toBe(200);
    await banned.process.waitForLine(/banned/, 10_000);
    expect((await listNodes(cluster.gateway.url)).some((n) => n.id === banned.nodeId)).toBe(false);
  });

  it("come back by themselves within seconds after the gateway restarts", async () => {
    const port = cluster.gateway.port;
    await cluster.gateway.stop();
    const started = Date.now();
    restarted = await startGateway({ port, vars: cluster.vars, sink: quietSink("gateway-restarted") });
    // The agent backs off while the gateway is down (a window doubling from 250 ms), then finds it again. (The banned
    // agent retries only at its 30 s cap, so it is not waited for.)
    await waitForNode(restarted.url, replacement!.nodeId, 30_000);
    const back = Date.now() - started;
    expect(back).toBeLessThan(15_000);
    const { key } = await createApiKey(restarted.url, cluster.vars["ADMIN_TOKEN"]!, "e2e-sessions-restarted");
    const reply = await cluster.clientWithKey(key).chat.completions.create({
      model: CHAT_MODEL,
      messages: [{ role: "user", content: "back again?" }],
    });
    expect(reply.choices[0]?.message.content).toBeTruthy();
  });
});

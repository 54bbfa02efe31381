// Usage survives the gateway dying: an answered request's usage row is in its admission cell's SQLite (the write-ahead)
// before the cell's flush sends it on. workerd is killed (SIGKILL, nothing flushed on the way out) after the answer and
// before the flush; the gateway restarted on the same storage delivers the row to the key's usage and the node's
// earning to its shard (paid by a settlement), once each.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { startSimBackend, type SimBackend } from "@meshgate/sim-backend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../gateway/admin.js";
import { generateDevVars } from "../gateway/dev-vars.js";
import { startGateway, type Gateway } from "../gateway/gateway.js";
import { waitForNode } from "../gateway/nodes.js";
import { pollUntil, startNodeAgent, type NodeAgent } from "../processes/index.js";
import { CHAT_MODEL } from "./support/cluster.js";
import { quietSink } from "./support/quiet.js";
import { routedChat } from "./support/routed.js";
import { SETUP_TIMEOUT_MS } from "./support/timeouts.js";
import { fetchUsage, usageOnceRecorded } from "./support/usage.js";

const PRICE = { prompt: 1_000_000, completion: 2_000_000 };

describe("usage durability", { timeout: 120_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), "meshgate-e2e-durability-"));
  const persistDir = join(scratch, "state");
  const vars = { ...generateDevVars(), SETTLEMENT_DELAY_MS: "0" };
  let gateway: Gateway;
  let backend: SimBackend;
  let agent: NodeAgent;
  let apiKey: string;
  const startedAt = Date.now();

  const start = (flushMs: string, port?: number) =>
    startGateway({
      vars: { ...vars, USAGE_FLUSH_MS: flushMs },
      persistDir,
      sink: quietSink("gateway"),
      ...(port === undefined ? {} : { port }),
    });

  beforeAll(async () => {
    // A flush far away: the row can only be in the write-ahead when workerd dies.
    gateway = await start("600000");
    backend = await startSimBackend({ models: [CHAT_MODEL], log: quietSink("sim-backend") });
    agent = await startNodeAgent({
      name: "agent",
      gatewayUrl: gateway.url,
      upstreamUrl: backend.url,
      keyFile: join(scratch, "agent.key"),
      prices: { [CHAT_MODEL]: PRICE },
      sink: quietSink("agent"),
    });
    await waitForNode(gateway.url, agent.nodeId);
    apiKey = (await createApiKey(gateway.url, vars.ADMIN_TOKEN, "usage-durability")).key;
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await agent?.process.stop();
    await backend?.close();
    await gateway?.stop().catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  }, SETUP_TIMEOUT_MS);

  const adminUsageRequests = async (): Promise<number> => {
    const res = await fetch(`${gateway.url}/admin/usage?group_by=key`, {
      headers: { authorization: `Bearer ${vars.ADMIN_TOKEN}` },
    });
    if (!res.ok) throw new Error(`GET /admin/usage answered ${res.status}`);
    return Number(((await res.json()) as { totals: { requests: number } }).totals.requests);
  };

  it("delivers a row written ahead before workerd was killed, once, to the usage and the node's earnings", async () => {
    const client = () => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
    const first = await routedChat(client());
    expect(first.node).toBe(agent.nodeId);
    // The release (and with it the row) follows the answer within milliseconds; the flush is ten minutes away.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await fetchUsage(gateway.url, apiKey)).totals.requests).toBe(0);

    const pid = gateway.pid;
    if (pid === undefined) throw new Error("the gateway's workerd pid is unknown");
    process.kill(pid, "SIGKILL");
    await gateway.stop().catch(() => {});
    gateway = await start("200", gateway.port);
    await waitForNode(gateway.url, agent.nodeId);

    // The restarted cell flushes what it holds; a second request (which wakes the cell, if nothing else did) follows.
    const second = await pollUntil(() => routedChat(client()), { what: "a chat after the restart", timeoutMs: 20_000 });
    expect(second.node).toBe(agent.nodeId);
    const usage = await usageOnceRecorded(gateway.url, apiKey, 2, 30_000);
    expect(usage.totals.requests).toBe(2);
    await pollUntil(async () => ((await adminUsageRequests()) >= 2 ? true : undefined), {
      what: "both requests in the roll-up",
      timeoutMs: 10_000,
    });
    // A few more flushes: anything sent twice would show up now.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await fetchUsage(gateway.url, apiKey)).totals.requests).toBe(2);
    expect(await adminUsageRequests()).toBe(2);

    const to = Math.floor(Date.now() / 1000);
    const from = Math.min(Math.floor(startedAt / 1000) - 300, to - 3600);
    const closed = await fetch(`${gateway.url}/admin/settlements`, {
      method: "POST",
      headers: { authorization: `Bearer ${vars.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ from, to }),
    });
    expect(closed.status).toBe(201);
    const statement = (await closed.json()) as { nodes: { node_id: string; receipts: number; amount: number }[] };
    const paid = statement.nodes.find((n) => n.node_id === agent.nodeId);
    expect(paid?.receipts).toBe(2);
    expect(paid?.amount).toBeGreaterThan(0);
  });
});

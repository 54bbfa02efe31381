// One gateway served from several isolates (tools/gateway/isolates.ts): requests go to each copy in turn, and every
// copy sees the same Durable Objects — a key made through one works through all, and a node that opened its session
// through one is listed and served through all.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimBackend, type SimBackend } from "@meshgate/sim-backend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAT_MODEL } from "../e2e/support/cluster.js";
import { E2E, SETUP_TIMEOUT_MS } from "../e2e/support/timeouts.js";
import { startNodeAgent, type NodeAgent } from "../processes/index.js";
import { createApiKey } from "./admin.js";
import { generateDevVars } from "./dev-vars.js";
import { startGateway, type Gateway } from "./gateway.js";
import { ISOLATE_HEADER } from "./isolates.js";
import { waitForNode } from "./nodes.js";

const ISOLATES = 3;
const quiet = () => {};

describe("a gateway served from several isolates", E2E, () => {
  const scratch = mkdtempSync(join(tmpdir(), "meshgate-isolates-"));
  const vars = generateDevVars();
  let gateway: Gateway;
  let backend: SimBackend;
  let agent: NodeAgent;

  beforeAll(async () => {
    gateway = await startGateway({ vars, isolates: ISOLATES, sink: quiet });
    backend = await startSimBackend({ models: [CHAT_MODEL], log: quiet });
    agent = await startNodeAgent({
      name: "agent",
      gatewayUrl: gateway.url,
      upstreamUrl: backend.url,
      keyFile: join(scratch, "agent.key"),
      session: true,
      sink: quiet,
    });
    await waitForNode(gateway.url, agent.nodeId);
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await agent?.process.stop();
    await backend?.close();
    await gateway?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }, SETUP_TIMEOUT_MS);

  it("hands requests to each isolate in turn, all sharing one set of Durable Objects", async () => {
    const { key } = await createApiKey(gateway.url, vars.ADMIN_TOKEN, "isolates");
    const served: string[] = [];
    for (let i = 0; i < 2 * ISOLATES; i++) {
      const res = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: CHAT_MODEL, messages: [{ role: "user", content: "hi" }], max_tokens: 3 }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-meshgate-node")).toBe(agent.nodeId);
      await res.json();
      served.push(res.headers.get(ISOLATE_HEADER) ?? "none");
    }
    expect(new Set(served)).toEqual(new Set(["0", "1", "2"]));
  });
});

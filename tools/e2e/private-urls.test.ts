// A gateway run as in production (without the local-development switch) refuses node URLs that would make the Worker
// call loopback, private or link-local addresses; the local runners and tests turn the switch on explicitly.
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDevVars } from "../gateway/dev-vars.js";
import { startGateway, type Gateway } from "../gateway/gateway.js";
import { startNodeAgent, type NodeAgent } from "../processes/index.js";
import { newTestNode, send, signedHeartbeat } from "./support/heartbeat.js";
import { quietSink } from "./support/quiet.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

describe("node URLs on a production-mode gateway", E2E, () => {
  let gateway: Gateway;
  let agent: NodeAgent | undefined;
  const scratch = mkdtempSync(join(tmpdir(), "meshgate-e2e-private-"));

  beforeAll(async () => {
    gateway = await startGateway({ vars: generateDevVars(), allowPrivateNodeUrls: false, sink: quietSink("gateway") });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await agent?.process.stop();
    await gateway?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }, SETUP_TIMEOUT_MS);

  it("refuses a real agent whose URL is a loopback address, and the agent says why", async () => {
    agent = await startNodeAgent({
      name: "private-agent",
      gatewayUrl: gateway.url,
      upstreamUrl: "http://127.0.0.1:9",
      models: ["m"],
      keyFile: join(scratch, "agent.key"),
      sink: quietSink("private-agent"),
    });
    const line = await agent.process.waitForLine(/heartbeat failed .*400 forbidden_node_url.*/, 20_000);
    expect(line[0]).toContain("loopback");
  });

  it.each([
    ["http://10.1.2.3:8000", "private"],
    ["http://192.168.1.20/", "private"],
    ["http://169.254.169.254/latest/meta-data", "link-local"],
    ["http://[::1]:8080", "loopback"],
    ["http://[fd00::1]/", "private"],
    ["http://2130706433:80/", "loopback"],
    ["http://node.internal:8790", "local hostname"],
    ["http://user:secret@node.example.com/", "credentials"],
  ])("answers 400 forbidden_node_url for %s (%s)", async (url, why) => {
    const response = await send(
      await signedHeartbeat(gateway.url, await newTestNode(), { url, models: ["m"], seq: 1 }),
    );
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: string; param: string; message: string } };
    expect(error).toMatchObject({ code: "forbidden_node_url", param: "url" });
    expect(error.message).toContain(why);
  });

  it("accepts a public URL (pending until the node proves it answers there)", async () => {
    const response = await send(
      await signedHeartbeat(gateway.url, await newTestNode(), {
        url: "https://node.example.com:8790",
        models: ["m"],
        seq: 1,
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "pending_verification" });
  });
});

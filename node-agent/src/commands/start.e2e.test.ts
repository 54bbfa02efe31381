import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RECEIPT_HEADER, SessionClose } from "@meshgate/schemas";
import { startSimBackend } from "../../../tools/sim-backend/server.js";
import { startFakeGateway } from "../../test/fake-gateway.js";
import { FakeSessionGateway } from "../../test/fake-session-gateway.js";
import { send, signedRequest } from "../../test/gateway-request.js";
import { runCli, startCli } from "../../test/run-cli.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("node-agent start", () => {
  it("creates a key, registers, serves the gateway and exits 0 on SIGTERM", { timeout: 30_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "node-agent-start-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const backend = await startSimBackend({ log: () => {} });
    cleanups.push(() => backend.close());
    const gateway = await startFakeGateway({ intervalMs: 50 });
    cleanups.push(() => gateway.close());

    const cli = startCli(
      [
        "start",
        "--gateway",
        gateway.url,
        "--upstream",
        `${backend.url}/v1`,
        "--listen",
        "127.0.0.1:0",
        "--key-file",
        "key.json",
      ],
      dir,
    );
    cleanups.push(async () => {
      if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
    });
    const created = await cli.waitForLine(/created a new node key/);
    const listening = await cli.waitForLine(/ listening /);
    const publicUrl = /public_url=(\S+)/.exec(listening)?.[1];
    expect(publicUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(publicUrl).not.toBe("http://127.0.0.1:0");
    await cli.waitForLine(/registered with gateway/);
    expect((await stat(join(dir, "key.json"))).mode & 0o777).toBe(0o600);
    const [heartbeat] = await gateway.waitForHeartbeats(1);
    expect(created).toContain(heartbeat!.heartbeat.node_id);

    const res = await send(
      await signedRequest(
        gateway.signer,
        `${publicUrl}/v1/embeddings`,
        { model: "sim-embed", input: "x" },
        { nodeId: heartbeat!.heartbeat.node_id },
      ),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get(RECEIPT_HEADER)).not.toBeNull();

    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    await cli.waitForLine(/stopped/);
    // The answer's receipt is in the log next to the key file.
    const logged = (await readFile(join(dir, "key.json.receipts.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as unknown);
    expect(logged).toEqual([
      expect.objectContaining({
        receipt: res.headers.get(RECEIPT_HEADER),
        request_id: "req_test",
        model: "sim-embed",
        amount: 0,
      }),
    ]);
  });

  it("refuses to start, exit 1, with a price above the ceiling the gateway publishes", {
    timeout: 20_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "node-agent-start-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const gateway = await startFakeGateway({
      priceCeilings: { default: { prompt: 100, completion: 200 }, models: {} },
    });
    cleanups.push(() => gateway.close());
    const args = [
      "start",
      "--gateway",
      gateway.url,
      "--upstream",
      "http://127.0.0.1:9",
      "--models",
      "llama3",
      "--price",
      "llama3=100:201",
      "--listen",
      "127.0.0.1:0",
      "--key-file",
      "key.json",
    ];
    const result = await runCli(args, dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("llama3: --price llama3=100:201 is above the gateway's ceiling of 100:200");
    expect(result.stderr).not.toContain(" listening ");
    expect(gateway.heartbeats).toEqual([]);
  });

  it("dials the gateway without listening by default, and exits 1 when another agent takes its node over", {
    timeout: 30_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "node-agent-start-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const gateway = await FakeSessionGateway.start();
    cleanups.push(() => gateway.close());
    const args = ["start", "--gateway", gateway.url, "--upstream", "http://127.0.0.1:9", "--models", "llama3"];
    const cli = startCli([...args, "--key-file", "key.json"], dir);
    cleanups.push(async () => {
      if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
    });
    const open = await cli.waitForLine(/ session open .*\bnode=(\S+)/);
    const side = await gateway.waitForSession(1);
    expect(open).toContain(`node=${side.nodeId}`);
    expect((await side.waitForState()).models).toEqual([{ id: "llama3" }]);
    side.socket.close(SessionClose.replaced, "replaced");
    expect(await cli.waitForLine(/node-agent: error: /)).toContain(
      "another agent with this node's key connected to the gateway; this agent stops serving",
    );
    expect(await cli.exited).toBe(1);
  });

  it("explains a missing --gateway and exits 2", { timeout: 20_000 }, async () => {
    const result = await runCli(["start", "--upstream", "http://127.0.0.1:11434"], tmpdir());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--gateway is required");
  });
});

// `npm run dev` as a newcomer meets it: a banner with a gateway and key that work, health probes that run, no log line
// per heartbeat, and everything gone (port and scratch files included) on SIGTERM to the npm process alone.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { AdminNode } from "@meshgate/schemas";
import { descendants, freePort, running } from "../e2e/support/process-tree.js";
import { apiKeyWorks } from "../gateway/admin.js";
import { readDevVars } from "../gateway/dev-vars.js";
import { DEV_VARS, REPO_ROOT } from "../gateway/paths.js";
import { ensurePortFree } from "../gateway/port.js";
import { SCRATCH_ROOT } from "../gateway/scratch.js";
import { pollUntil, spawnProcess, withTimeout } from "../processes/index.js";

const quiet = () => {};
const stateDir = mkdtempSync(join(tmpdir(), "meshgate-dev-test-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

async function probedNodes(url: string, adminToken: string): Promise<AdminNode[]> {
  const res = await fetch(`${url}/admin/nodes`, { headers: { authorization: `Bearer ${adminToken}` } });
  return ((await res.json()) as { data: AdminNode[] }).data;
}

describe("npm run dev", { timeout: 120_000 }, () => {
  it("prints a banner that works, probes nodes, keeps heartbeats out of the log, and stops on SIGTERM", async () => {
    const port = await freePort();
    const npm = spawnProcess({
      name: "npm-run-dev",
      command: "npm",
      args: ["run", "dev", "--", "--port", String(port), "--state-dir", stateDir],
      cwd: REPO_ROOT,
      sink: quiet,
    });
    try {
      await npm.waitForLine(/^Press Ctrl-C to stop\.$/, 90_000);
      const url = (await npm.waitForLine(/^ {2}export MESHGATE_URL=(\S+)$/))[1] ?? "";
      const key = (await npm.waitForLine(/^ {2}export MESHGATE_API_KEY=(\S+)$/))[1] ?? "";
      expect(url).toBe(`http://127.0.0.1:${port}`);
      expect(await apiKeyWorks(url, key)).toBe(true);
      await npm.waitForLine(/^ {2}State .*npm run dev's own/);
      const nodeId = (await npm.waitForLine(/^ {2}Node +(\S+)$/))[1];

      // The demo node heartbeats every 2 s; the probes come every 10 s.
      const adminToken = readDevVars(DEV_VARS).ADMIN_TOKEN;
      const probed = async () => (await probedNodes(url, adminToken)).find((n) => n.id === nodeId)?.probe?.reachable;
      await pollUntil(async () => (await probed()) || undefined, {
        what: "a health probe to reach the demo node",
        timeoutMs: 30_000,
        intervalMs: 500,
      });
      expect(npm.history.filter((line) => line.includes("/v1/nodes/heartbeat"))).toEqual([]);

      const tree = descendants(npm.pid);
      expect(tree.map((d) => d.command).join("\n")).toContain("wrangler.js dev");
      const dev = tree.find((d) => d.command.includes("tools/dev.ts"));
      process.kill(npm.pid, "SIGTERM");
      await withTimeout(npm.exited, 30_000, "npm to exit after SIGTERM");
      await pollUntil(() => (tree.some((d) => running(d.pid)) ? undefined : true), {
        what: "every process npm run dev started to stop",
        timeoutMs: 15_000,
      });
      await ensurePortFree("127.0.0.1", port);
      const scratch = existsSync(SCRATCH_ROOT) ? readdirSync(SCRATCH_ROOT) : [];
      expect(scratch.filter((d) => d.startsWith(`dev-${dev?.pid}-`))).toEqual([]);
    } finally {
      await npm.stop();
    }
  });

  it("says in one line that the port is taken, and exits non-zero", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const args = ["run", "dev", "--", "--port", String(port), "--state-dir", stateDir];
      const npm = spawnProcess({ name: "npm-run-dev", command: "npm", args, cwd: REPO_ROOT, sink: quiet });
      const exit = await withTimeout(npm.exited, 30_000, "npm run dev to give up");
      expect(exit.code).not.toBe(0);
      expect(npm.history.filter((line) => line.trim() !== "" && !/^(> |npm notice)/.test(line))).toEqual([
        `npm run dev failed: port ${port} on 127.0.0.1 is already in use (by another npm start or npm run dev?). Stop what listens there, or choose another port: npm run dev -- --port ${port + 1}`,
      ]);
    } finally {
      holder.close();
    }
  });
});

// `npm start` as people and process managers drive it: its banner's export lines work; a signal sent to the npm
// process alone stops everything it started (workerd, esbuild, the demo agent, the simulated backend) and frees the
// port; a port already taken gets one readable line and a non-zero exit.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { descendants, freePort, running } from "../e2e/support/process-tree.js";
import { E2E } from "../e2e/support/timeouts.js";
import { apiKeyWorks } from "../gateway/admin.js";
import { REPO_ROOT } from "../gateway/paths.js";
import { ensurePortFree } from "../gateway/port.js";
import { SCRATCH_ROOT } from "../gateway/scratch.js";
import { pollUntil, spawnProcess, withTimeout, type ManagedProcess } from "../processes/index.js";

const quiet = () => {};
const stateDir = mkdtempSync(join(tmpdir(), "meshgate-start-test-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

function npmStart(port: number, ...more: string[]): ManagedProcess {
  const args = ["start", "--", "--port", String(port), "--state-dir", stateDir, ...more];
  return spawnProcess({ name: "npm-start", command: "npm", args, cwd: REPO_ROOT, sink: quiet });
}

describe("npm start", { timeout: 90_000 }, () => {
  it.each(["SIGTERM", "SIGINT", "SIGHUP"] as const)(
    "stops everything it started, and frees the port, on %s to the npm process alone",
    async (signal) => {
      const port = await freePort();
      const npm = npmStart(port);
      try {
        await npm.waitForLine(/^Press Ctrl-C to stop\.$/, 60_000);
        // The banner's export lines, pasted into a shell, give the README's snippets a gateway and a key that work.
        const url = (await npm.waitForLine(/^ {2}export MESHGATE_URL=(\S+)$/))[1] ?? "";
        const key = (await npm.waitForLine(/^ {2}export MESHGATE_API_KEY=(\S+)$/))[1] ?? "";
        expect(url).toBe(`http://127.0.0.1:${port}`);
        expect(await apiKeyWorks(url, key)).toBe(true);
        const tree = descendants(npm.pid);
        const commands = tree.map((d) => d.command).join("\n");
        for (const part of ["tools/start.ts", "bin/workerd", "bin/esbuild", "node-agent.js start"])
          expect(commands).toContain(part);
        const start = tree.find((d) => d.command.includes("tools/start.ts"));

        process.kill(npm.pid, signal);
        await withTimeout(npm.exited, 20_000, `npm to exit after ${signal}`);
        await pollUntil(() => (tree.some((d) => running(d.pid)) ? undefined : true), {
          what: `every process npm start started to stop after ${signal}`,
          timeoutMs: 15_000,
        });
        await ensurePortFree("127.0.0.1", port);
        // Miniflare's scratch files went with it.
        const scratch = existsSync(SCRATCH_ROOT) ? readdirSync(SCRATCH_ROOT) : [];
        expect(scratch.filter((d) => d.startsWith(`gateway-${start?.pid}-`))).toEqual([]);
      } finally {
        await npm.stop();
      }
    },
  );

  it("says in one line that the port is taken, and exits non-zero", E2E, async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const address = holder.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      const npm = npmStart(port, "--no-demo");
      const exit = await withTimeout(npm.exited, 30_000, "npm start to give up");
      expect(exit.code).not.toBe(0);
      // npm's own lines (the "> start", "> exec node ..." header, any "npm notice") aside, what was printed:
      const printed = npm.history.filter((line) => line.trim() !== "" && !/^(> |npm notice)/.test(line));
      expect(printed).toEqual([
        `npm start failed: port ${port} on 127.0.0.1 is already in use (by another npm start or npm run dev?). Stop what listens there, or choose another port: npm start -- --port ${port + 1}`,
      ]);
    } finally {
      holder.close();
    }
  });
});

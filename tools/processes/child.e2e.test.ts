// Child processes are stopped as a whole process group, and output can be awaited line by line.
import { describe, expect, it } from "vitest";
import { E2E } from "../e2e/support/timeouts.js";
import { spawnProcess } from "./child.js";
import { readProcStat } from "./proc-stat.js";

const quiet = () => {};
/** Running, as opposed to gone or a zombie awaiting reaping by init (which is already dead). */
const running = (pid: number) => (readProcStat(pid)?.state ?? "Z") !== "Z";
const sh = (name: string, script: string) => spawnProcess({ name, command: "sh", args: ["-c", script], sink: quiet });

describe("spawnProcess", E2E, () => {
  it("stops the child and everything it started", async () => {
    const child = sh("tree", 'sleep 300 & echo "grandchild $!"; wait');
    const match = await child.waitForLine(/^grandchild (\d+)$/);
    const grandchild = Number(match[1]);
    expect(running(grandchild)).toBe(true);
    await child.stop();
    expect(child.running).toBe(false);
    expect(running(grandchild)).toBe(false);
  });

  it("kills a group that ignores SIGTERM once the grace period is over", async () => {
    const child = sh("stubborn", 'trap "" TERM; echo ready; while :; do sleep 1; done');
    await child.waitForLine(/^ready$/);
    const exit = await child.stop(200);
    expect(exit.signal).toBe("SIGKILL");
  });

  it("finds lines printed before the wait began, and fails fast when the process exits first", async () => {
    const child = sh("early", "echo listening on http://127.0.0.1:1234; sleep 300");
    await child.waitForLine(/listening/);
    const url = (await child.waitForLine(/listening on (\S+)/))[1];
    expect(url).toBe("http://127.0.0.1:1234");
    await child.stop();

    const quitter = sh("quitter", "echo bye; exit 3");
    await expect(quitter.waitForLine(/never printed/)).rejects.toThrow(/exited \(code 3.*Last output:\nbye/s);
  });
});

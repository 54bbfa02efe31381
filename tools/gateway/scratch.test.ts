// Scratch directories left by a killed process are removed by the next one; a live process's are left alone.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeScratchDir, removeScratchDir, SCRATCH_ROOT } from "./scratch.js";

describe("scratch directories", () => {
  it("sweeps what a dead process left, keeps what a live one holds", async () => {
    // A pid that has just exited (and been reaped): the owner of a directory left by a kill.
    const dead = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" }).stdout.trim();
    const orphan = join(SCRATCH_ROOT, `test-${dead}-999`);
    const live = join(SCRATCH_ROOT, `test-${process.ppid}-999`);
    mkdirSync(join(orphan, "miniflare-0123"), { recursive: true });
    mkdirSync(live, { recursive: true });
    const mine = makeScratchDir("test");
    try {
      expect(existsSync(orphan)).toBe(false);
      expect(existsSync(live)).toBe(true);
      expect(mine).toMatch(new RegExp(`/test-${process.pid}-\\d+$`));
    } finally {
      await removeScratchDir(live);
      await removeScratchDir(mine);
    }
    expect(existsSync(mine)).toBe(false);
  });
});

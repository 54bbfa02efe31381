// Scratch directories for Miniflare, under .meshgate/tmp instead of /tmp. Miniflare keeps its scratch files in
// os.tmpdir()/miniflare-<random> and removes them on dispose without waiting, so a process that exits right after (as
// every shutdown here does) leaves one behind per run, and a killed one always does. Ours are named by the owning
// process's pid, so whatever a killed process left is found and removed by the next one.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { MESHGATE_DIR } from "./paths.js";

export const SCRATCH_ROOT = join(MESHGATE_DIR, "tmp");

let made = 0;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    return err instanceof Error && "code" in err && err.code === "EPERM";
  }
}

/** Removes the scratch directories of processes that are gone (killed before they could clean up). */
function sweepOrphans(): void {
  let entries: string[];
  try {
    entries = readdirSync(SCRATCH_ROOT);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(/^[a-z]+-(\d+)-\d+$/.exec(entry)?.[1]);
    if (pid > 0 && !alive(pid)) rmSync(join(SCRATCH_ROOT, entry), { recursive: true, force: true });
  }
}

/** A fresh, empty directory `.meshgate/tmp/<kind>-<pid>-<n>` for this process to use and remove. */
export function makeScratchDir(kind: string): string {
  sweepOrphans();
  const dir = join(SCRATCH_ROOT, `${kind}-${process.pid}-${++made}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function removeScratchDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

/** For exit hooks, which cannot wait. */
export function removeScratchDirSync(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs `create` with TMPDIR set to `dir`, for code that reads os.tmpdir() as it starts (Miniflare's constructor), and
 * puts TMPDIR back afterwards so nothing else in this process is affected.
 */
export function withTmpDir<T>(dir: string, create: () => T): T {
  const before = process.env["TMPDIR"];
  process.env["TMPDIR"] = dir;
  try {
    return create();
  } finally {
    if (before === undefined) delete process.env["TMPDIR"];
    else process.env["TMPDIR"] = before;
  }
}

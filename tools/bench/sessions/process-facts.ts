// What /proc says about the gateway's workerd processes besides CPU (cpu.ts): resident memory and open descriptors,
// summed over every workerd the harness runs. Linux only; elsewhere each reads as null.
import { readdirSync, readFileSync } from "node:fs";

/** VmRSS in KiB from /proc/<pid>/status text; null if absent. */
export function parseVmRssKb(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m?.[1] === undefined ? null : Number(m[1]);
}

/** The soft and hard "Max open files" from /proc/<pid>/limits text; null if absent. */
export function parseOpenFilesLimit(limits: string): { soft: number; hard: number } | null {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  if (!m?.[1] || !m[2]) return null;
  const value = (s: string) => (s === "unlimited" ? Number.POSITIVE_INFINITY : Number(s));
  return { soft: value(m[1]), hard: value(m[2]) };
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

export function rssKb(pid: number): number | null {
  const status = readOrNull(`/proc/${pid}/status`);
  return status === null ? null : parseVmRssKb(status);
}

export function openFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

export function openFilesLimit(pid: number): { soft: number; hard: number } | null {
  const limits = readOrNull(`/proc/${pid}/limits`);
  return limits === null ? null : parseOpenFilesLimit(limits);
}

/** The sum of `read` over `pids`; null if any cannot be read (a total missing a process would mislead). */
export function sumOver(pids: readonly number[], read: (pid: number) => number | null): number | null {
  let total = 0;
  for (const pid of pids) {
    const value = read(pid);
    if (value === null) return null;
    total += value;
  }
  return total;
}

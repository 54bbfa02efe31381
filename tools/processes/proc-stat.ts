// /proc/<pid>/stat, the kernel's view of a process (Linux only): state, parent, process group and CPU time.
import { readdirSync, readFileSync } from "node:fs";

export interface ProcStat {
  pid: number;
  /** R running, S sleeping, Z zombie (exited, not yet reaped), ... */
  state: string;
  ppid: number;
  pgrp: number;
  /** CPU time in clock ticks (usually 100 per second). */
  utime: number;
  stime: number;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const [state, ppid, pgrp, utime, stime] = [f[0], f[1], f[2], f[11], f[12]];
  if (state === undefined || ppid === undefined || pgrp === undefined || utime === undefined || stime === undefined)
    return undefined;
  return { pid, state, ppid: Number(ppid), pgrp: Number(pgrp), utime: Number(utime), stime: Number(stime) };
}

/** Every process the kernel lists, or null where /proc is unavailable. */
export function allProcesses(): ProcStat[] | null {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  const stats: ProcStat[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat) stats.push(stat);
  }
  return stats;
}

// CPU time of other processes, from /proc (Linux only). utime+stime in /proc/<pid>/stat already covers every thread
// of the process, including threads that have since exited, which summing /proc/<pid>/task/* would miss.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { allProcesses, readProcStat } from "../processes/index.js";

/** utime + stime of `pid` in clock ticks, or undefined if the process is gone (or there is no /proc). */
export function processTicks(pid: number): number | undefined {
  const stat = readProcStat(pid);
  return stat && stat.utime + stat.stime;
}

/**
 * utime + stime summed over every live process in process group `pgid`. tools/processes starts each child as a group
 * leader, so a piece that runs helpers (a wrapper script, a tsx loader process) is still counted whole.
 */
export function groupTicks(pgid: number): number {
  let total = 0;
  for (const stat of allProcesses() ?? []) if (stat.pgrp === pgid) total += stat.utime + stat.stime;
  return total;
}

let ticksPerSecond: number | undefined;

/** `getconf CLK_TCK` (USER_HZ), which is 100 on practically every Linux; 100 if getconf is unavailable. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** A CPU meter for one process (or group), read before and after a phase. */
export interface CpuMeter {
  label: string;
  /** Cumulative CPU seconds so far. */
  read(): number;
}

export function processMeter(label: string, pid: number): CpuMeter {
  return {
    label,
    read() {
      const ticks = processTicks(pid);
      if (ticks === undefined) throw new Error(`${label} (pid ${pid}) is gone; cannot read its CPU time`);
      return ticks / clockTicksPerSecond();
    },
  };
}

export function groupMeter(label: string, pgid: number): CpuMeter {
  return { label, read: () => groupTicks(pgid) / clockTicksPerSecond() };
}

/** This process (the load generator), in microsecond resolution rather than ticks. */
export function selfMeter(label: string): CpuMeter {
  return {
    label,
    read() {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    },
  };
}

/**
 * CPU time the whole machine spent busy (user, nice, system, irq, softirq; not idle, iowait or steal), from the
 * first line of /proc/stat. Minus the measured processes, it is what everything else on a shared machine used.
 */
export function machineMeter(label: string): CpuMeter {
  return {
    label,
    read() {
      const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]?.trim().split(/\s+/) ?? [];
      const [user, nice, system, , , irq, softirq] = fields.slice(1, 8).map(Number);
      return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) / clockTicksPerSecond();
    },
  };
}

/** The machine's meter, or null where there is no /proc/stat (Linux only): the machine's busy time is then not reported. */
export function machineOrNull(): CpuMeter | null {
  const meter = machineMeter("machine");
  try {
    meter.read();
    return meter;
  } catch {
    return null;
  }
}

/** Runs `phase` and returns its result with the CPU seconds each meter's process spent meanwhile. */
export async function measureCpu<T>(
  meters: readonly CpuMeter[],
  phase: () => Promise<T>,
): Promise<{ result: T; cpuSeconds: Record<string, number> }> {
  const before = meters.map((m) => m.read());
  const result = await phase();
  const cpuSeconds: Record<string, number> = {};
  for (const [i, m] of meters.entries()) cpuSeconds[m.label] = m.read() - (before[i] ?? 0);
  return { result, cpuSeconds };
}

/** Cores' worth of CPU used by processes other than `ours` over `seconds`: the noise on a shared machine. */
export function otherCores(
  cpuSeconds: Record<string, number>,
  ours: readonly CpuMeter[],
  machine: CpuMeter,
  seconds: number,
): number {
  const mine = ours.reduce((sum, m) => sum + (cpuSeconds[m.label] ?? 0), 0);
  return Math.max(0, (cpuSeconds[machine.label] ?? 0) - mine) / seconds;
}

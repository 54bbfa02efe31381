// Facts about the machine and runtime a result came from, printed with it: sub-millisecond numbers mean little
// without them.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, release } from "node:os";
import { clockTicksPerSecond } from "./cpu.js";

export interface MachineFacts {
  cores: number;
  cpuModel: string;
  node: string;
  kernel: string;
  miniflare: string;
  workerd: string;
  clockTicksPerSecond: number;
  /** 1-minute load average when the bench started: other work on a shared machine skews everything. */
  loadAverage: number;
}

function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    // Resolve the entry point and walk up to its package.json: some packages do not export ./package.json.
    let dir = require.resolve(name);
    for (let i = 0; i < 6; i++) {
      dir = dir.slice(0, dir.lastIndexOf("/"));
      try {
        const pkg = JSON.parse(readFileSync(`${dir}/package.json`, "utf8")) as { name?: unknown; version?: unknown };
        if (pkg.name === name && typeof pkg.version === "string") return pkg.version;
      } catch {
        // Not here; keep walking up.
      }
    }
  } catch {
    // Not installed.
  }
  return "unknown";
}

export function machineFacts(): MachineFacts {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? "unknown",
    node: process.version,
    kernel: release(),
    miniflare: packageVersion("miniflare"),
    workerd: packageVersion("workerd"),
    clockTicksPerSecond: clockTicksPerSecond(),
    loadAverage: loadavg()[0] ?? 0,
  };
}

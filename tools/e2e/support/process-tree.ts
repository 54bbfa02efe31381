// What a launcher left running: every descendant of a process (by parent links, so also those that moved to process
// groups of their own), and ports to start servers on.
import { readFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { allProcesses, readProcStat } from "../../processes/index.js";

export interface Descendant {
  pid: number;
  /** The command line, space-separated. */
  command: string;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

/** Every running (not zombie) descendant of `pid`, children first. */
export function descendants(pid: number): Descendant[] {
  const all = (allProcesses() ?? []).filter((p) => p.state !== "Z");
  const found = [pid];
  for (let i = 0; i < found.length; i++) {
    for (const p of all) if (p.ppid === found[i] && !found.includes(p.pid)) found.push(p.pid);
  }
  return found.slice(1).map((d) => ({ pid: d, command: commandLine(d) }));
}

/** Running, as opposed to gone or a zombie awaiting reaping (which is already dead). */
export const running = (pid: number): boolean => (readProcStat(pid)?.state ?? "Z") !== "Z";

/** A port nothing listens on right now (the OS's pick, released at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

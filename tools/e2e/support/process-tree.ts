// What a launcher left running: every descendant of a process (by parent links, so also those that moved to process
// groups of their own), and ports to start servers on.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
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

/** Inodes of every listening TCP socket on this machine (IPv4 and IPv6), with its port. */
function listeningSocketPorts(): Map<string, number> {
  const ports = new Map<string, number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const cols = line.trim().split(/\s+/);
      const port = cols[1]?.split(":").pop();
      if (cols[3] === "0A" && cols[9] && port) ports.set(cols[9], Number.parseInt(port, 16));
    }
  }
  return ports;
}

/** The TCP ports process `pid` listens on (Linux /proc): what a stranger on the network could connect to. */
export function listeningPorts(pid: number): number[] {
  const listening = listeningSocketPorts();
  const ports: number[] = [];
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return ports;
  }
  for (const fd of fds) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      const port = inode === undefined ? undefined : listening.get(inode);
      if (port !== undefined) ports.push(port);
    } catch {
      // The descriptor closed while we looked.
    }
  }
  return ports;
}

// Finds the workerd process serving a port. Miniflare keeps its child process private, so ask the kernel instead:
// the process that holds the listening socket on that port, among this process's children. Linux only (/proc);
// elsewhere the pid is simply unknown. The benchmark reads CPU time from /proc/<pid>/stat with it.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { allProcesses } from "../processes/index.js";

function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      const state = cols[3];
      const inode = cols[9];
      if (local?.endsWith(`:${hexPort}`) && state === "0A" && inode) inodes.add(inode);
    }
  }
  return inodes;
}

function holdsSocket(pid: number, inodes: Set<string>): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1] && inodes.has(m[1])) return true;
    } catch {
      // The descriptor closed while we looked.
    }
  }
  return false;
}

/** The pid of this process's child that listens on `port`, if it can be determined. */
export function findListeningChild(port: number): number | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  const children = (allProcesses() ?? []).filter((p) => p.ppid === process.pid);
  return children.find((p) => holdsSocket(p.pid, inodes))?.pid;
}

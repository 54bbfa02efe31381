// Which processes listen on which TCP ports, from the kernel's tables (Linux /proc; elsewhere nothing is known).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Every listening TCP socket on this machine (IPv4 and IPv6): its inode, and the port it listens on. */
export function listeningSockets(): Map<string, number> {
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

/** The inodes of the sockets process `pid` holds open (empty when it is gone or /proc is unreadable). */
export function socketInodes(pid: number): string[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const inodes: string[] = [];
  for (const fd of fds) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) inodes.push(inode);
    } catch {
      // The descriptor closed while we looked.
    }
  }
  return inodes;
}

/** The TCP ports process `pid` listens on: what a stranger on the network could connect to. */
export function listeningPorts(pid: number): number[] {
  const listening = listeningSockets();
  return socketInodes(pid).flatMap((inode) => {
    const port = listening.get(inode);
    return port === undefined ? [] : [port];
  });
}

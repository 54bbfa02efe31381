// Finds the workerd process serving a port. Miniflare keeps its child process private, so ask the kernel instead:
// the process that holds the listening socket on that port, among this process's children. Linux only (/proc);
// elsewhere the pid is simply unknown. The benchmark reads CPU time from /proc/<pid>/stat with it.
import { allProcesses } from "../processes/index.js";
import { listeningSockets, socketInodes } from "../processes/listening-sockets.js";

/** The pid of this process's child that listens on `port`, if it can be determined. */
export function findListeningChild(port: number): number | undefined {
  const inodes = new Set([...listeningSockets()].flatMap(([inode, p]) => (p === port ? [inode] : [])));
  if (inodes.size === 0) return undefined;
  const children = (allProcesses() ?? []).filter((p) => p.ppid === process.pid);
  return children.find((p) => socketInodes(p.pid).some((inode) => inodes.has(inode)))?.pid;
}

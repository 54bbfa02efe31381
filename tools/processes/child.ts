// A child process in its own process group, with line-buffered output kept for waiting and diagnostics. Stopping
// signals the whole group, because a command like `node-agent` (a script that starts tsx, which starts node) is
// several processes and killing only the first would leave the others running.
import { spawn } from "node:child_process";
import { onLines, prefixedSink, type LineSink } from "./lines.js";
import { allProcesses } from "./proc-stat.js";
import { onExit, onShutdown } from "./shutdown.js";

export interface SpawnOptions {
  /** Short name used as the log prefix. */
  name: string;
  command: string;
  args?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Where output lines go; by default this process's stdout/stderr, prefixed with `[name]`. */
  sink?: LineSink;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const HISTORY_LINES = 500;

/**
 * Whether any process of the group still runs. Zombies do not count: a grandchild orphaned by the group leader is
 * reaped by init, which some containers' init does only every second or so, yet it is already dead.
 */
function groupAlive(pgid: number): boolean {
  const processes = allProcesses();
  if (processes) return processes.some((p) => p.pgrp === pgid && p.state !== "Z");
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<Exit>;
  /** The most recent output lines, oldest first. */
  readonly history: string[] = [];
  private exit: Exit | null = null;
  private readonly listeners = new Set<(line: string) => void>();
  private readonly unregister: (() => void)[];

  constructor(opts: SpawnOptions) {
    this.name = opts.name;
    const child = spawn(opts.command, opts.args ?? [], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      // A new process group (pgid = pid): signals from the terminal reach us, not it, and we stop it as a unit.
      detached: true,
    });
    if (child.pid === undefined) throw new Error(`could not start ${opts.name} (${opts.command})`);
    this.pid = child.pid;
    const sink = opts.sink ?? prefixedSink(opts.name);
    for (const stream of ["stdout", "stderr"] as const) {
      onLines(child[stream], (line) => {
        this.history.push(line);
        if (this.history.length > HISTORY_LINES) this.history.shift();
        sink(line, stream);
        for (const listener of this.listeners) listener(line);
      });
    }
    this.exited = new Promise((resolve) => {
      // "close", not "exit": it comes after the output pipes are drained, so no line is missed by a waiter.
      const settle = (exit: Exit): void => {
        this.exit = exit;
        resolve(exit);
      };
      child.on("close", (code, signal) => settle({ code, signal }));
      child.on("error", () => settle({ code: null, signal: null }));
    });
    const pid = this.pid;
    this.unregister = [onShutdown(async () => void (await this.stop())), onExit(() => signalGroup(pid, "SIGKILL"))];
  }

  get running(): boolean {
    return this.exit === null;
  }

  /** The output so far, for error messages. */
  tail(lines = 30): string {
    return this.history.slice(-lines).join("\n");
  }

  /** Resolves with the first output line (past or future) matching `pattern`; rejects on exit or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    for (const line of this.history) {
      const m = line.match(pattern);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.listeners.delete(listener);
        clearTimeout(timer);
      };
      const listener = (line: string) => {
        const m = line.match(pattern);
        if (m) {
          done();
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(this.failure(`no line matching ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.listeners.add(listener);
      void this.exited.then((e) => {
        done();
        reject(this.failure(`exited (code ${e.code}, signal ${e.signal}) before printing ${pattern}`));
      });
    });
  }

  private failure(what: string): Error {
    return new Error(`${this.name} ${what}. Last output:\n${this.tail()}`);
  }

  /** Sends `signal` to the whole group at once, without waiting (e.g. SIGKILL to simulate a crash). */
  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    signalGroup(this.pid, signal);
  }

  /** SIGTERM to the group, then SIGKILL whatever is left after `graceMs`; resolves once the group is empty. */
  async stop(graceMs = 5_000): Promise<Exit> {
    signalGroup(this.pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (groupAlive(this.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    if (groupAlive(this.pid)) signalGroup(this.pid, "SIGKILL");
    while (groupAlive(this.pid)) await new Promise((r) => setTimeout(r, 10));
    const exit = await this.exited;
    for (const unregister of this.unregister) unregister();
    return exit;
  }
}

export function spawnProcess(opts: SpawnOptions): ManagedProcess {
  return new ManagedProcess(opts);
}

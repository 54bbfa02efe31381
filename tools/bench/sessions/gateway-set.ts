// The local gateways the fleet dials: one or more workerd processes (tools/gateway), each with its Durable Objects'
// SQLite kept in its own directory so a restart on the same port finds every session object and the registry again.
// One workerd holds only so many SQLite-backed objects awake at once (see README: SQLITE_NOMEM near 3,000, and 3
// descriptors each), so 10,000 sessions are spread over several; their CPU, memory and descriptors are summed.
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { AdminNode } from "@meshgate/schemas";
import type { DevVars } from "../../gateway/dev-vars.js";
import { startGateway, type Gateway } from "../../gateway/gateway.js";
import { onExit, type LineSink } from "../../processes/index.js";
import { clockTicksPerSecond, processTicks } from "../cpu.js";
import { openFds, rssKb, sumOver } from "./process-facts.js";

export interface GatewaySetOptions {
  count: number;
  vars: DevVars;
  /** Each gateway's state goes in a fresh directory under this one, removed by dispose(). */
  storageRoot: string;
  sink: LineSink;
}

interface Slot {
  dir: string;
  port: number;
  gateway: Gateway;
}

export class GatewaySet {
  private stopped = false;
  private forgetExitHook: () => void = () => {};

  private constructor(
    private readonly opts: GatewaySetOptions,
    private slots: Slot[],
  ) {}

  /** Starts `count` gateways at once (their builds write through a rename, so they may race). */
  static async start(opts: GatewaySetOptions): Promise<GatewaySet> {
    const root = realpathSync(opts.storageRoot);
    const dirs = Array.from({ length: opts.count }, (_, i) => mkdtempSync(join(root, `meshgate-sessions-${i}-`)));
    const set = new GatewaySet(opts, []);
    // Ctrl-C exits without reaching dispose(): thousands of SQLite files must not stay behind on a tmpfs.
    set.forgetExitHook = onExit(() => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });
    const started = await Promise.allSettled(dirs.map((dir) => set.launch(dir, 0)));
    set.slots = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) {
      await set.dispose();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      throw failed.reason;
    }
    return set;
  }

  get urls(): string[] {
    return this.slots.map((s) => s.gateway.url);
  }

  get dirs(): string[] {
    return this.slots.map((s) => s.dir);
  }

  /** The workerd processes now; a gateway whose pid is unknown makes every reading null. */
  pids(): number[] | null {
    const pids = this.slots.map((s) => s.gateway.pid);
    return pids.every((p): p is number => p !== undefined) ? pids : null;
  }

  /** CPU seconds the current workerd processes have used so far; null where unknown. */
  cpuSeconds(): number | null {
    const pids = this.pids();
    const ticks = pids && sumOver(pids, (pid) => processTicks(pid) ?? null);
    return ticks === null ? null : ticks / clockTicksPerSecond();
  }

  rssKb(): number | null {
    const pids = this.pids();
    return pids && sumOver(pids, rssKb);
  }

  openFds(): number | null {
    const pids = this.pids();
    return pids && sumOver(pids, openFds);
  }

  /** Stops every gateway (their state stays) and starts each again on its port; resolves with when each was ready. */
  async restart(onStopped: () => void): Promise<number[]> {
    await Promise.all(this.slots.map((s) => s.gateway.stop()));
    onStopped();
    const readyAt = this.slots.map(() => 0);
    this.slots = await Promise.all(
      this.slots.map(async (s, i) => {
        const slot = await this.launch(s.dir, s.port);
        readyAt[i] = Date.now();
        return slot;
      }),
    );
    return readyAt;
  }

  /** Every node each registry knows. */
  async adminNodes(): Promise<AdminNode[]> {
    const lists = await Promise.all(
      this.slots.map(async (s) => {
        const res = await fetch(`${s.gateway.url}/admin/nodes`, {
          headers: { authorization: `Bearer ${this.opts.vars.ADMIN_TOKEN}` },
        });
        const body = await res.text();
        if (!res.ok) throw new Error(`GET /admin/nodes answered ${res.status}: ${body.slice(0, 200)}`);
        return (JSON.parse(body) as { data: AdminNode[] }).data;
      }),
    );
    return lists.flat();
  }

  /** Stops every gateway and removes their state. */
  async dispose(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.allSettled(this.slots.map((s) => s.gateway.stop()));
    for (const s of this.slots) rmSync(s.dir, { recursive: true, force: true });
    this.forgetExitHook();
  }

  private async launch(dir: string, port: number): Promise<Slot> {
    const gateway = await startGateway({ vars: this.opts.vars, persistDir: dir, port, sink: this.opts.sink });
    return { dir, port: gateway.port, gateway };
  }
}

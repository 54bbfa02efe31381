// Many simulated nodes in this one process, spread over the gateways: the connect storm (a bounded number of
// upgrades in flight, each node retrying with backoff), the shared ping switch, state changes for all, and what
// happened to them (attempts, failures, when each came live), taken phase by phase.
import type { TestIdentity } from "@meshgate/schemas/testing";
import { countBetween, replayAlarms, type AlarmCount } from "./alarm-replay.js";
import type { BackoffPolicy } from "../../../node-agent/src/session/backoff.js";
import type { RegistryCalls } from "./result.js";
import { SimNode, type NodeRecorder } from "./sim-node.js";

export interface FleetOptions {
  /** The stock agent's when absent. */
  backoff?: BackoffPolicy;
  attemptTimeoutMs: number;
  deflate: boolean;
  capacity: number;
}

/** What the nodes reported since the last take(). */
export interface FleetEvents {
  /** When each upgrade was sent. */
  attempts: number[];
  retries: number;
  failures: Record<string, number>;
  /** When each node came live, and how long its successful attempt took. */
  liveAt: number[];
  latenciesMs: number[];
  /** Live sessions that closed, by close code. */
  drops: Record<string, number>;
  /** Nodes that stopped for good, as the stock agent would, by why. */
  halted: Record<string, number>;
}

export interface StateChanges {
  accepted: number;
  refused: number;
  /** Sessions that dropped before their ack. */
  lost: number;
  /** Acks that never came (ACK_TIMEOUT_MS). */
  unanswered: number;
  latenciesMs: number[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function noEvents(): FleetEvents {
  return { attempts: [], retries: 0, failures: {}, liveAt: [], latenciesMs: [], drops: {}, halted: {} };
}

/** Runs `task` on every item with at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** When each ping the node sent since `opened` was answered (its send time where no pong came). */
function answeredSince(node: SimNode, opened: number): number[] {
  const out: number[] = [];
  for (const [i, sent] of node.pingsSentAt.entries()) if (sent >= opened) out.push(node.pongsAt[i] ?? sent);
  return out;
}

export class Fleet implements NodeRecorder {
  readonly nodes: SimNode[];
  readonly pings = { paused: false };
  private events = noEvents();

  /** Node i talks to gateway i mod the number of gateways. */
  constructor(identities: readonly TestIdentity[], gatewayUrls: readonly string[], opts: FleetOptions) {
    if (gatewayUrls.length === 0) throw new Error("a fleet needs at least one gateway");
    this.nodes = identities.map(
      (identity, i) =>
        new SimNode({
          ...opts,
          identity,
          gatewayUrl: gatewayUrls[i % gatewayUrls.length] ?? "",
          pings: this.pings,
          recorder: this,
        }),
    );
  }

  attempt(at: number, retry: boolean): void {
    this.events.attempts.push(at);
    if (retry) this.events.retries++;
  }

  failure(kind: string): void {
    this.events.failures[kind] = (this.events.failures[kind] ?? 0) + 1;
  }

  live(at: number, latencyMs: number): void {
    this.events.liveAt.push(at);
    this.events.latenciesMs.push(latencyMs);
  }

  dropped(code: number): void {
    this.events.drops[code] = (this.events.drops[code] ?? 0) + 1;
  }

  halted(why: string): void {
    this.events.halted[why] = (this.events.halted[why] ?? 0) + 1;
  }

  /** The events since the last take, and a fresh start. */
  take(): FleetEvents {
    const events = this.events;
    this.events = noEvents();
    return events;
  }

  /** Every node dials once it gets one of `concurrency` slots, and keeps it until live (retrying with backoff). */
  async storm(concurrency: number): Promise<void> {
    await pool(this.nodes, concurrency, async (node) => {
      await node.connectUntilLive(0);
    });
  }

  liveCount(): number {
    return this.nodes.filter((n) => n.liveSince !== null).length;
  }

  /**
   * Of the nodes whose session opened at or after `since`, how many had the state they sent on it passed on to the
   * registry: their row's last write (`lastWritten`, ms, by node id) is no earlier than the state's sending.
   */
  registryCalls(lastWritten: ReadonlyMap<string, number>, since: number): RegistryCalls {
    let connects = 0;
    let statesPassedOn = 0;
    for (const node of this.nodes) {
      const written = lastWritten.get(node.id);
      if (node.liveSince === null || node.liveSince < since || node.stateSentAt === null || written === undefined)
        continue;
      connects++;
      if (written >= node.stateSentAt) statesPassedOn++;
    }
    return { connects, statesPassedOn };
  }

  /** Every node sends one state message (`capacity`), `concurrency` awaiting their ack at once. */
  async changeState(capacity: number, concurrency: number): Promise<StateChanges> {
    const result: StateChanges = { accepted: 0, refused: 0, lost: 0, unanswered: 0, latenciesMs: [] };
    await pool(this.nodes, concurrency, async (node) => {
      const started = performance.now();
      const ack = await node.sendState(capacity);
      if (ack === "dropped") result.lost++;
      else if (ack === "timeout") result.unanswered++;
      else if (ack.accepted) {
        result.accepted++;
        result.latenciesMs.push(performance.now() - started);
      } else result.refused++;
    });
    return result;
  }

  /** Pings sent in [from, to). */
  pingsBetween(from: number, to: number): number {
    return this.nodes.reduce((sum, n) => sum + countBetween(n.pingsSentAt, from, to), 0);
  }

  /**
   * Silence alarms each window saw, replayed per node from its opening and its pings (arrival taken as the pong, and as
   * the send), up to `until`; and how many sessions the rule would have closed for silence.
   */
  alarmsIn(
    windows: readonly { from: number; to: number }[],
    until: number,
  ): { alarms: AlarmCount[]; silenced: number } {
    const low = windows.map(() => 0);
    const high = windows.map(() => 0);
    let silenced = 0;
    for (const node of this.nodes) {
      if (node.openedAt === null) continue;
      const opened = node.openedAt;
      const sent = node.pingsSentAt.filter((t) => t >= opened);
      const answered = answeredSince(node, opened);
      const early = replayAlarms(opened, sent, until);
      const late = replayAlarms(opened, answered, until);
      if (late.silencedAt !== null) silenced++;
      for (const [w, { from, to }] of windows.entries()) {
        low[w] = (low[w] ?? 0) + countBetween(early.fires, from, to);
        high[w] = (high[w] ?? 0) + countBetween(late.fires, from, to);
      }
    }
    return { alarms: windows.map((_, w) => ({ answered: high[w] ?? 0, sent: low[w] ?? 0 })), silenced };
  }

  /**
   * Every live node sends `count` extra pings back to back, each node at a random moment within `spreadMs`; resolves
   * once every ping has its pong, or after `timeoutMs`.
   */
  async burstPings(count: number, spreadMs: number, timeoutMs: number): Promise<void> {
    const due = this.nodes.map((n) => n.pingsSentAt.length + (n.liveSince === null ? 0 : count));
    await Promise.all(
      this.nodes.map(async (node) => {
        await sleep(Math.random() * spreadMs);
        for (let i = 0; i < count; i++) node.ping();
      }),
    );
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.nodes.some((n, i) => n.pongsAt.length < (due[i] ?? 0))) await sleep(20);
  }

  /** Every live socket breaks at once (as when a network path fails); each node redials on its own. */
  dropAll(): void {
    for (const node of this.nodes) node.breakSocket();
  }

  /** The alarm each open session has armed now (replayed), for placing a short window where most fire. */
  armedAlarms(now: number): number[] {
    const armed: number[] = [];
    for (const node of this.nodes) {
      const opened = node.openedAt;
      if (opened === null) continue;
      const next = replayAlarms(opened, answeredSince(node, opened), now).nextAt;
      if (next !== null) armed.push(next);
    }
    return armed;
  }

  stop(): void {
    for (const node of this.nodes) node.stop();
  }
}

// What the session harness measured, and what follows from it: CPU per keep-alive, per alarm and per state change,
// memory per session, each node's messages and rows per minute, and the month's bill beside today's heartbeats.
// Pure (no workerd, no sockets), so every figure in the table is unit-tested arithmetic.
import { SESSION_HANDSHAKE_TIMEOUT_MS } from "@meshgate/schemas";
import type { AlarmCount } from "./alarm-replay.js";
import { bill, heartbeatUsage, sessionUsage, type Bill, type SessionRates } from "./cost.js";
import { summarize } from "../stats.js";
import { HEARTBEAT, rowsWritten, SESSION_ALARM } from "./write-counts.js";

/** The bill is always for this many nodes, whatever --nodes was: the question. */
export const COST_NODES = 10_000;
/** The stock agent's handshake timeout. */
export const AGENT_HANDSHAKE_TIMEOUT_MS = SESSION_HANDSHAKE_TIMEOUT_MS;
/** Today's design: a signed heartbeat every 2 s (HEARTBEAT_INTERVAL_MS). */
export const HEARTBEATS_PER_NODE_MINUTE = 30;

export interface SessionBenchOptions {
  nodes: number;
  /** Seconds every node pings every 5 s, measured. */
  holdSeconds: number;
  /** Seconds with no pings after the hold (at most one ping interval), to price the silence alarms alone. */
  quietSeconds: number;
  /** Upgrades in flight at once during the connect storm. */
  concurrency: number;
  nodesPerGateway: number;
  storageDir: string;
  deflate: boolean;
  restart: boolean;
  /** An upgrade not answered in this long is given up and redialled (the agent's handshake timeout by default). */
  attemptTimeoutMs: number;
  /** Heartbeat-path CPU (µs of workerd per heartbeat) to price today's design with; measured when absent. */
  heartbeatCpuUs?: number;
}

/** A phase's wall time and the CPU spent meanwhile (null where workerd could not be measured). */
export interface CpuWindow {
  seconds: number;
  workerdCpuSeconds: number | null;
  clientCpuSeconds: number;
  /** The whole machine's busy CPU (null without /proc): minus the two above, other processes' load. */
  machineCpuSeconds: number | null;
}

export interface LatencyMs {
  p50: number;
  p99: number;
  max: number;
}

/**
 * Registry calls the connects of a phase cost, measured from the registry's rows: a session opens only through
 * openSession (one call each); a second call (sessionState) shows as the node's row written (last_heartbeat) at or
 * after the moment its agent sent its first state on the new session.
 */
export interface RegistryCalls {
  /** Nodes whose session opened in the phase (their latest), read in the registry afterwards. */
  connects: number;
  /** Of those, how many had the state sent on connect passed on to the registry. */
  statesPassedOn: number;
}

/** Registry calls per connect: openSession, plus sessionState where one was made; null without a measure. */
export function registryCallsPerConnect(c: RegistryCalls | null): number | null {
  return c === null || c.connects === 0 ? null : 1 + c.statesPassedOn / c.connects;
}

export interface StormMeasure extends CpuWindow {
  live: number;
  attempts: number;
  retries: number;
  failures: Record<string, number>;
  /** Upgrade sent → state acknowledged, successful attempts. */
  latencyMs: LatencyMs | null;
  peakLivePerSecond: number;
  /** Nodes that stopped for good, as the stock agent would, by why (none expected). */
  halted: Record<string, number>;
  registryCalls: RegistryCalls | null;
}

export interface KeepAliveWindow extends CpuWindow {
  pings: number;
  alarms: AlarmCount;
}

export interface WakeMeasure extends KeepAliveWindow {
  accepted: number;
  refused: number;
  lost: number;
  unanswered: number;
  latencyMs: LatencyMs | null;
}

export interface MemoryMeasure {
  baselineKb: number | null;
  connectedKb: number | null;
  heldKb: number | null;
  baselineFds: number | null;
  connectedFds: number | null;
}

export interface RegistryMeasure {
  /** Nodes the registries list as live through a session after the storm. */
  liveSessions: number;
  /** Nodes whose registry row changed (last_heartbeat) over the hold and quiet windows: registry writes. */
  touchedDuringHold: number;
  /** Nodes whose new capacity the registry holds after the state changes. */
  capacityUpdated: number;
}

/** Seconds until 50%, 99% and 100% of the nodes were live again; null if that never happened. */
export interface Milestones {
  p50: number | null;
  p99: number | null;
  p100: number | null;
}

export interface ReconnectMeasure {
  /** "drop": every socket broke, the gateways stayed up; "restart": every gateway process stopped and started. */
  cause: "drop" | "restart";
  /** From the break until every node was back (drop only: a restart replaces the processes measured). */
  cpu: CpuWindow | null;
  /** How long the gateways took to stop, and to start listening again (restart only). */
  stopSeconds: number | null;
  startSeconds: number | null;
  /** From the moment the sessions broke. */
  fromBreak: Milestones;
  /** From when the last gateway was listening again (the break itself for a drop). */
  fromReady: Milestones;
  /** Each node's time from its socket dropping to its state acknowledged again. */
  downtimeMs: LatencyMs | null;
  peakLivePerSecond: number;
  peakAttemptsPerSecond: number;
  /** Upgrades sent while coming back. */
  attempts: number;
  failures: Record<string, number>;
  /**
   * Live sessions that closed again while coming back, by close code. A 4001 (replaced) would stop a stock agent; the
   * gateway refuses an upgrade signed before the live session's (409 session_superseded), so an upgrade a node gave
   * up on and the gateway completed later no longer replaces its newer session.
   */
  drops: Record<string, number>;
  /** Nodes that stopped for good while coming back, as the stock agent would, by why (none expected). */
  halted: Record<string, number>;
  /** Nodes not live at the phase's end (the stock agent stops for good after a 4001). */
  notLive: number;
  registryCalls: RegistryCalls | null;
}

export interface SessionMeasurements {
  gateways: number;
  /** workerd CPU seconds per second with no session open, summed over the gateways. */
  idleCoresBaseline: number | null;
  storm: StormMeasure;
  memory: MemoryMeasure;
  hold: KeepAliveWindow;
  quiet: KeepAliveWindow;
  /** Extra pings sent in a burst where the fewest alarms were due: a keep-alive's own price. */
  burst: KeepAliveWindow;
  wake: WakeMeasure;
  registry: RegistryMeasure;
  drop: ReconnectMeasure | null;
  restart: ReconnectMeasure | null;
  /** Sessions the alarm replay says were closed for silence before the restart (should be 0). */
  silenced: number;
  /** Live sessions that closed between the storm and the restart, by close code (should be none). */
  steadyDrops: Record<string, number>;
  /** Reconnect attempts that failed meanwhile, by kind. */
  steadyFailures: Record<string, number>;
  /** workerd's log lines over the whole run, by kind. */
  gatewayLog: Record<string, number>;
  heartbeatCpuUs: number;
  heartbeatCpuMeasured: boolean;
}

export interface SessionDerived {
  cpuPerConnectUs: number | null;
  /** All of the hold's workerd CPU over its pings: alarms included. */
  cpuPerPingGrossUs: number | null;
  /** The burst's CPU less its replayed alarms at the quiet window's price, over its pings: a keep-alive alone. */
  cpuPerPingUs: number | null;
  /** An alarm's wake, from the quiet window (5 s: the object's eviction ~10 s later mostly falls outside). */
  cpuPerAlarmUs: number | null;
  /** An alarm's whole cycle, wake and the eviction after it: the hold's CPU less its pings, over its alarms. */
  cpuPerAlarmCycleUs: number | null;
  cpuPerStateChangeUs: number | null;
  /** Upper bound: if a ping woke its object it would cost at least the cheaper of an alarm or a state change. */
  wakesPerPingAtMost: number | null;
  memoryPerSessionKb: { connected: number | null; held: number | null };
  fdsPerSession: number | null;
  perNodeMinute: { pings: number; alarms: number; registryRpcs: number; rowsWritten: number };
}

export interface SessionCost {
  nodes: number;
  rates: SessionRates;
  sessions: Bill;
  heartbeats: Bill;
  heartbeatRowsPerHeartbeat: number;
  /** Heartbeats a second the one registry would take at this many nodes. */
  registryHeartbeatsPerSecond: number;
}

export interface SessionBenchResult extends SessionMeasurements {
  options: SessionBenchOptions;
  command: string;
  date: string;
  derived: SessionDerived;
  cost: SessionCost;
}

/** p50, p99 and max of a sample; null when it is empty. */
export function latencyOf(values: readonly number[]): LatencyMs | null {
  if (values.length === 0) return null;
  const s = summarize(values);
  return { p50: s.p50, p99: s.p99, max: s.max };
}

const per = (numerator: number | null, denominator: number): number | null =>
  numerator === null || !(denominator > 0) ? null : numerator / denominator;

/** Cores' worth of CPU that processes other than workerd and the clients used during a window. */
export function otherCores(w: CpuWindow): number | null {
  if (w.machineCpuSeconds === null || w.workerdCpuSeconds === null || !(w.seconds > 0)) return null;
  return Math.max(0, w.machineCpuSeconds - w.workerdCpuSeconds - w.clientCpuSeconds) / w.seconds;
}

/** CPU of a window less what idle workerd uses in that time. */
function activeCpu(w: CpuWindow, idleCores: number | null): number | null {
  return w.workerdCpuSeconds === null ? null : Math.max(0, w.workerdCpuSeconds - (idleCores ?? 0) * w.seconds);
}

/** A window's CPU less its replayed alarms at `alarm` seconds each, over its pings. */
function perPing(w: KeepAliveWindow, idleCores: number | null, alarm: number | null): number | null {
  const cpu = activeCpu(w, idleCores);
  return cpu === null || alarm === null ? null : per(Math.max(0, cpu - w.alarms.answered * alarm), w.pings);
}

function cpuPrices(
  m: SessionMeasurements,
): Pick<
  SessionDerived,
  | "cpuPerPingGrossUs"
  | "cpuPerPingUs"
  | "cpuPerAlarmCycleUs"
  | "cpuPerAlarmUs"
  | "cpuPerStateChangeUs"
  | "wakesPerPingAtMost"
> {
  const us = (s: number | null) => (s === null ? null : s * 1e6);
  const alarm = per(activeCpu(m.quiet, m.idleCoresBaseline), m.quiet.alarms.answered);
  const ping = perPing(m.burst, m.idleCoresBaseline, alarm);
  const wake = activeCpu(m.wake, m.idleCoresBaseline);
  const state =
    wake === null || ping === null || alarm === null
      ? null
      : per(Math.max(0, wake - m.wake.pings * ping - m.wake.alarms.answered * alarm), m.wake.accepted);
  const cheapestWake = alarm === null || state === null ? null : Math.min(alarm, state);
  const hold = activeCpu(m.hold, m.idleCoresBaseline);
  const cycle =
    hold === null || ping === null ? null : per(Math.max(0, hold - m.hold.pings * ping), m.hold.alarms.answered);
  return {
    cpuPerPingGrossUs: us(per(m.hold.workerdCpuSeconds, m.hold.pings)),
    cpuPerPingUs: us(ping),
    cpuPerAlarmCycleUs: us(cycle),
    cpuPerAlarmUs: us(alarm),
    cpuPerStateChangeUs: us(state),
    wakesPerPingAtMost: ping === null || cheapestWake === null ? null : per(ping, cheapestWake),
  };
}

export function deriveSession(m: SessionMeasurements, nodes: number): SessionDerived {
  const minutes = m.hold.seconds / 60;
  const mem = m.memory;
  const grown = (after: number | null) =>
    after === null || mem.baselineKb === null ? null : per(after - mem.baselineKb, nodes);
  const alarmsPerMinute = per(m.hold.alarms.answered, nodes * minutes) ?? 0;
  const watched = (m.hold.seconds + m.quiet.seconds) / 60;
  return {
    cpuPerConnectUs: per(m.storm.workerdCpuSeconds === null ? null : m.storm.workerdCpuSeconds * 1e6, m.storm.live),
    ...cpuPrices(m),
    memoryPerSessionKb: { connected: grown(mem.connectedKb), held: grown(mem.heldKb) },
    fdsPerSession:
      mem.connectedFds === null || mem.baselineFds === null ? null : per(mem.connectedFds - mem.baselineFds, nodes),
    perNodeMinute: {
      pings: per(m.hold.pings, nodes * minutes) ?? 0,
      alarms: alarmsPerMinute,
      registryRpcs: per(m.registry.touchedDuringHold, nodes * watched) ?? 0,
      rowsWritten: alarmsPerMinute * rowsWritten(SESSION_ALARM).withIndexes,
    },
  };
}

export function sessionCost(m: SessionMeasurements, d: SessionDerived, nodes = COST_NODES): SessionCost {
  const rates: SessionRates = {
    pingsPerNodeMinute: d.perNodeMinute.pings,
    alarmsPerNodeMinute: d.perNodeMinute.alarms,
    registryRpcsPerNodeMinute: d.perNodeMinute.registryRpcs,
    rowsPerNodeMinute: d.perNodeMinute.rowsWritten,
    // Billed wall time of a wake, taken as its CPU here (a floor: the object also awaits its alarm write).
    wakeSeconds: (d.cpuPerAlarmUs ?? 0) / 1e6,
  };
  const rowsPerHeartbeat = rowsWritten(HEARTBEAT).withIndexes;
  return {
    nodes,
    rates,
    sessions: bill(sessionUsage(nodes, rates)),
    heartbeats: bill(
      heartbeatUsage(nodes, {
        heartbeatsPerNodeMinute: HEARTBEATS_PER_NODE_MINUTE,
        rowsPerHeartbeat,
        cpuMsPerHeartbeat: m.heartbeatCpuUs / 1000,
        busyObjects: 1,
      }),
    ),
    heartbeatRowsPerHeartbeat: rowsPerHeartbeat,
    registryHeartbeatsPerSecond: (nodes * HEARTBEATS_PER_NODE_MINUTE) / 60,
  };
}

export function sessionBenchResult(
  options: SessionBenchOptions,
  m: SessionMeasurements,
  command: string,
  date: string,
): SessionBenchResult {
  const derived = deriveSession(m, options.nodes);
  return { ...m, options, command, date, derived, cost: sessionCost(m, derived) };
}

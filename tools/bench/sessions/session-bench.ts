// The session harness's phases against real local gateways: connect storm, hold with pings, a short quiet window
// without them (the silence alarms alone), a burst of extra pings (a keep-alive alone), one state change per node, then
// every socket dropped and every gateway restarted, which the nodes ride out by themselves. Each phase's workerd CPU
// comes from /proc; the arithmetic on it is in result.ts.
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { SESSION_PING_INTERVAL_MS } from "@meshgate/schemas";
import { newTestNode, type TestIdentity } from "@meshgate/schemas/testing";
import { generateDevVars } from "../../gateway/dev-vars.js";
import { selfMeter } from "../cpu.js";
import { heartbeatPathPhase } from "../heartbeats/heartbeat-path-bench.js";
import type { AlarmCount } from "./alarm-replay.js";
import { Fleet, type FleetEvents } from "./fleet.js";
import { LogTally } from "./gateway-log.js";
import { machineOrNull } from "../cpu.js";
import { timed, type Meters } from "./meters.js";
import { GatewaySet } from "./gateway-set.js";
import { openFilesLimit } from "./process-facts.js";
import { dropPhase, registryCallsSince, restartPhase } from "./reconnect-phases.js";
import {
  latencyOf,
  sessionBenchResult,
  type CpuWindow,
  type KeepAliveWindow,
  type RegistryCalls,
  type SessionBenchOptions,
  type SessionBenchResult,
  type SessionMeasurements,
  type StormMeasure,
} from "./result.js";
import { reproduceCommand } from "./format.js";
import { busiestWindow, peakPerSecond, quietestWindow } from "./timeline.js";

export type Progress = (line: string) => void;

/** Where state goes by default: tmpfs when there is one (a disk's fsync per commit would dominate the storm). */
export const DEFAULT_STORAGE_DIR = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
/** Every open and state takes a message token; the default burst (10) would not cover a restart's retries. */
const RAISED_RATE_LIMIT = "600/100";
/** workerd holds a socket and, while the object is awake, 3 SQLite files (database, WAL, shared memory) per session. */
const FDS_PER_SESSION = 4;
const IDLE_SAMPLE_MS = 3_000;
/** The quiet and burst windows start between these two offsets from now (alarms are armed ≤ 15.1 s ahead). */
const WINDOW_LEAD_MS = 500;
const WINDOW_SEARCH_MS = 10_000;
/** The burst: this many extra pings per node, each node starting at a random moment within the spread. */
const BURST_PINGS = 5;
const BURST_SPREAD_MS = 1_000;
const BURST_WINDOW_MS = 3_000;
const BURST_TIMEOUT_MS = 20_000;
const STATE_CHANGE_CONCURRENCY = 256;
const CAPACITY = 4;
/** Heartbeat-path CPU when measured here: a short run of tools/bench/heartbeats (npm run bench's quick size). */
const HEARTBEAT_SAMPLE = { nodes: 400, rounds: 2, concurrency: 32, client: "http" as const };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function identities(count: number, progress: Progress): Promise<TestIdentity[]> {
  progress(`sessions: generating ${count} node keys`);
  const out: TestIdentity[] = [];
  for (let first = 0; first < count; first += 1_000)
    out.push(...(await Promise.all(Array.from({ length: Math.min(1_000, count - first) }, () => newTestNode()))));
  return out;
}

async function heartbeatCpu(opts: SessionBenchOptions, progress: Progress): Promise<{ us: number; measured: boolean }> {
  if (opts.heartbeatCpuUs !== undefined) return { us: opts.heartbeatCpuUs, measured: false };
  const path = await heartbeatPathPhase({ ...HEARTBEAT_SAMPLE, storageDir: opts.storageDir }, progress);
  if (path.cpu.workerdUs === null) throw new Error("could not measure workerd's CPU per heartbeat");
  return { us: path.cpu.workerdUs, measured: true };
}

/** Warns when workerd may run out of descriptors: its limit cannot be raised without privileges. */
function checkDescriptors(gateways: GatewaySet, perGateway: number, progress: Progress): void {
  for (const pid of gateways.pids() ?? []) {
    const limit = openFilesLimit(pid);
    const needed = perGateway * FDS_PER_SESSION + 256;
    if (limit !== null && limit.soft < needed)
      progress(
        `sessions: WARNING workerd ${pid} may open ${needed} descriptors but its limit is ${limit.soft}; lower --nodes-per-gateway`,
      );
  }
}

function stormMeasure(
  window: CpuWindow,
  events: FleetEvents,
  from: number,
  live: number,
  registryCalls: RegistryCalls,
): StormMeasure {
  return {
    ...window,
    live,
    attempts: events.attempts.length,
    retries: events.retries,
    failures: events.failures,
    latencyMs: latencyOf(events.latenciesMs),
    peakLivePerSecond: peakPerSecond(events.liveAt, from),
    halted: events.halted,
    registryCalls,
  };
}

async function stormPhase(fleet: Fleet, meters: Meters, opts: SessionBenchOptions, progress: Progress) {
  progress(`sessions: connect storm, ${opts.nodes} nodes, ${opts.concurrency} upgrades in flight`);
  const ticker = setInterval(() => progress(`sessions: ${fleet.liveCount()}/${opts.nodes} live`), 5_000);
  try {
    const storm = await timed(meters, () => fleet.storm(opts.concurrency));
    const events = fleet.take();
    const calls = await registryCallsSince(fleet, meters.gateways, storm.from);
    return stormMeasure(storm.window, events, storm.from, fleet.liveCount(), calls);
  } finally {
    clearInterval(ticker);
  }
}

async function idleCores(gateways: GatewaySet): Promise<number | null> {
  const before = gateways.cpuSeconds();
  await sleep(IDLE_SAMPLE_MS);
  const after = gateways.cpuSeconds();
  return before === null || after === null ? null : (after - before) / (IDLE_SAMPLE_MS / 1000);
}

type Timed<T> = Awaited<ReturnType<typeof timed<T>>>;

/**
 * The hold (every node pinging), a quiet window without pings placed where the most alarms are due, and a burst of
 * extra pings placed where the fewest are.
 */
async function keepAlivePhases(fleet: Fleet, meters: Meters, opts: SessionBenchOptions, progress: Progress) {
  progress(`sessions: holding ${opts.nodes} sessions for ${opts.holdSeconds} s, every node pinging`);
  const hold = await timed(meters, () => sleep(opts.holdSeconds * 1000));
  await untilAlarmWindow(fleet, opts.quietSeconds * 1000, busiestWindow);
  progress(`sessions: ${opts.quietSeconds} s without pings (silence alarms only)`);
  fleet.pings.paused = true;
  const quiet = await timed(meters, () => sleep(opts.quietSeconds * 1000));
  fleet.pings.paused = false;
  const heldKb = meters.gateways.rssKb();
  await untilAlarmWindow(fleet, BURST_WINDOW_MS, quietestWindow);
  progress(`sessions: ${BURST_PINGS} extra pings from every node within ${BURST_SPREAD_MS / 1000} s`);
  const burst = await timed(meters, () => fleet.burstPings(BURST_PINGS, BURST_SPREAD_MS, BURST_TIMEOUT_MS));
  return { hold, quiet, burst, heldKb };
}

async function stateChangePhase(fleet: Fleet, meters: Meters, progress: Progress) {
  progress(`sessions: every node sends one state change, ${STATE_CHANGE_CONCURRENCY} awaiting their ack at once`);
  const wake = await timed(meters, () => fleet.changeState(CAPACITY + 1, STATE_CHANGE_CONCURRENCY));
  progress(`sessions: ${wake.result.accepted} state changes accepted in ${wake.window.seconds.toFixed(1)} s`);
  return wake;
}

function keepAliveWindow(fleet: Fleet, phase: Timed<unknown>, alarms: AlarmCount | undefined): KeepAliveWindow {
  return {
    ...phase.window,
    pings: fleet.pingsBetween(phase.from, phase.to),
    alarms: alarms ?? { answered: 0, sent: 0 },
  };
}

/** Keep-alive and state-change phases, with the registry read around them (untimed). */
async function steadyPhases(fleet: Fleet, meters: Meters, opts: SessionBenchOptions, progress: Progress) {
  const { gateways } = meters;
  const before = new Map((await gateways.adminNodes()).map((n) => [n.id, n]));
  const liveSessions = [...before.values()].filter((n) => n.live && n.transport === "session").length;
  const { hold, quiet, burst, heldKb } = await keepAlivePhases(fleet, meters, opts, progress);
  const after = await gateways.adminNodes();
  const touched = after.filter((n) => before.get(n.id)?.last_heartbeat !== n.last_heartbeat).length;
  const wake = await stateChangePhase(fleet, meters, progress);
  const updated = (await gateways.adminNodes()).filter((n) => n.capacity === CAPACITY + 1).length;
  const replay = fleet.alarmsIn([hold, quiet, burst, wake], wake.to);
  const changes = wake.result;
  return {
    heldKb,
    registry: { liveSessions, touchedDuringHold: touched, capacityUpdated: updated },
    hold: keepAliveWindow(fleet, hold, replay.alarms[0]),
    quiet: keepAliveWindow(fleet, quiet, replay.alarms[1]),
    burst: keepAliveWindow(fleet, burst, replay.alarms[2]),
    wake: {
      ...keepAliveWindow(fleet, wake, replay.alarms[3]),
      accepted: changes.accepted,
      refused: changes.refused,
      lost: changes.lost,
      unanswered: changes.unanswered,
      latencyMs: latencyOf(changes.latenciesMs),
    },
    silenced: replay.silenced,
  };
}

/**
 * Waits (pinging, unmeasured) for the window `pick` chooses among the alarms now armed: after a short storm every
 * session's alarm fires within the same few seconds, and a window placed blindly could catch all or none.
 */
async function untilAlarmWindow(
  fleet: Fleet,
  widthMs: number,
  pick: (times: readonly number[], from: number, to: number, widthMs: number) => number,
): Promise<void> {
  const now = Date.now();
  const start = pick(fleet.armedAlarms(now), now + WINDOW_LEAD_MS, now + WINDOW_SEARCH_MS, widthMs);
  await sleep(start - Date.now());
}

export function validateOptions(o: SessionBenchOptions): void {
  for (const name of ["nodes", "holdSeconds", "quietSeconds", "concurrency", "nodesPerGateway"] as const)
    if (!Number.isSafeInteger(o[name]) || o[name] < 1) throw new Error(`${name} must be a positive integer`);
  // Each node may skip at most one ping, or its gap could reach the 15 s silence limit and close it.
  if (o.quietSeconds * 1000 > SESSION_PING_INTERVAL_MS)
    throw new Error(`the quiet window may last at most ${SESSION_PING_INTERVAL_MS / 1000} s (one ping interval)`);
}

async function measure(
  opts: SessionBenchOptions,
  ids: readonly TestIdentity[],
  gateways: GatewaySet,
  progress: Progress,
): Promise<Omit<SessionMeasurements, "heartbeatCpuUs" | "heartbeatCpuMeasured" | "gatewayLog">> {
  const meters: Meters = { gateways, client: selfMeter("client"), machine: machineOrNull() };
  checkDescriptors(gateways, Math.ceil(opts.nodes / gateways.urls.length), progress);
  const idle = await idleCores(gateways);
  const baseline = { kb: gateways.rssKb(), fds: gateways.openFds() };
  const fleet = new Fleet(ids, gateways.urls, {
    attemptTimeoutMs: opts.attemptTimeoutMs,
    deflate: opts.deflate,
    capacity: CAPACITY,
  });
  try {
    const storm = await stormPhase(fleet, meters, opts, progress);
    const connected = { kb: gateways.rssKb(), fds: gateways.openFds() };
    const steady = await steadyPhases(fleet, meters, opts, progress);
    const between = fleet.take();
    const drop = opts.restart ? await dropPhase(fleet, meters, progress) : null;
    const restart = opts.restart ? await restartPhase(fleet, gateways, progress) : null;
    return {
      gateways: gateways.urls.length,
      idleCoresBaseline: idle,
      storm,
      memory: {
        baselineKb: baseline.kb,
        connectedKb: connected.kb,
        heldKb: steady.heldKb,
        baselineFds: baseline.fds,
        connectedFds: connected.fds,
      },
      hold: steady.hold,
      quiet: steady.quiet,
      burst: steady.burst,
      wake: steady.wake,
      registry: steady.registry,
      drop,
      restart,
      silenced: steady.silenced,
      steadyDrops: between.drops,
      steadyFailures: between.failures,
    };
  } finally {
    fleet.stop();
  }
}

export async function sessionBenchPhase(opts: SessionBenchOptions, progress: Progress): Promise<SessionBenchResult> {
  validateOptions(opts);
  // No cf.json download when Miniflare starts (startGateway also passes cf: false).
  process.env["CLOUDFLARE_CF_FETCH_ENABLED"] ??= "false";
  const heartbeat = await heartbeatCpu(opts, progress);
  const ids = await identities(opts.nodes, progress);
  const count = Math.ceil(opts.nodes / opts.nodesPerGateway);
  progress(`sessions: starting ${count} gateway${count === 1 ? "" : "s"} (state under ${opts.storageDir})`);
  const log = new LogTally((line) => progress(`[gateway] ${line}`));
  const gateways = await GatewaySet.start({
    count,
    vars: { ...generateDevVars(), HEARTBEAT_RATE_LIMIT: RAISED_RATE_LIMIT },
    storageRoot: opts.storageDir,
    sink: log.sink,
  });
  try {
    const measured = await measure(opts, ids, gateways, progress);
    const m: SessionMeasurements = {
      ...measured,
      heartbeatCpuUs: heartbeat.us,
      heartbeatCpuMeasured: heartbeat.measured,
      gatewayLog: log.counts,
    };
    return sessionBenchResult(opts, m, reproduceCommand(opts), new Date().toISOString());
  } finally {
    await gateways.dispose();
  }
}

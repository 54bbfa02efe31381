// Every session broken at once, twice: first the sockets drop while the gateways stay up (a network path fails, or a
// deploy resets every session object), then every gateway process restarts (its state stays on disk) and is gone for
// as long as workerd takes to come back. Nothing tells the nodes to return: each redials on its own with backoff and
// full jitter, so what is measured is how long nodes stay lost and whether they come back spread out or as a herd.
import type { Fleet } from "./fleet.js";
import type { GatewaySet } from "./gateway-set.js";
import { latencyOf, type CpuWindow, type Milestones, type ReconnectMeasure, type RegistryCalls } from "./result.js";
import { timed, type Meters } from "./meters.js";
import { peakPerSecond, secondsToFraction } from "./timeline.js";

type Progress = (line: string) => void;

/** How long the nodes get to come back before the phase reports who did not. */
const RETURN_DEADLINE_MS = 180_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function untilAllLive(fleet: Fleet, deadline: number, progress: Progress): Promise<void> {
  let lastReport = Date.now();
  while (fleet.liveCount() < fleet.nodes.length && Date.now() < deadline) {
    await sleep(100);
    if (Date.now() - lastReport >= 5_000) {
      lastReport = Date.now();
      progress(`sessions: ${fleet.liveCount()}/${fleet.nodes.length} live again`);
    }
  }
}

/** What the registries say of the connects since `since` (see Fleet.registryCalls); read after the phase, untimed. */
export async function registryCallsSince(fleet: Fleet, gateways: GatewaySet, since: number): Promise<RegistryCalls> {
  const rows = await gateways.adminNodes();
  return fleet.registryCalls(new Map(rows.map((n) => [n.id, Date.parse(n.last_heartbeat)])), since);
}

function milestones(times: readonly number[], origin: number, total: number): Milestones {
  return {
    p50: secondsToFraction(times, origin, total, 0.5),
    p99: secondsToFraction(times, origin, total, 0.99),
    p100: secondsToFraction(times, origin, total, 1),
  };
}

/** The break closes each session live then once (1006, abnormal); only the closes after it are news. */
function dropsAfterBreak(drops: Record<string, number>, liveAtBreak: number): Record<string, number> {
  const after = { ...drops };
  const abnormal = (after["1006"] ?? 0) - liveAtBreak;
  if (abnormal > 0) after["1006"] = abnormal;
  else delete after["1006"];
  return after;
}

interface Broken {
  cpu: CpuWindow | null;
  brokeAt: number;
  liveAtBreak: number;
  readyAt: number;
  stopSeconds: number | null;
  startSeconds: number | null;
}

/** How the nodes came back after `broken`, and what their reconnects cost the registry. */
async function measureReturn(
  fleet: Fleet,
  gateways: GatewaySet,
  cause: ReconnectMeasure["cause"],
  broken: Broken,
): Promise<ReconnectMeasure> {
  const { brokeAt, readyAt } = broken;
  const events = fleet.take();
  const notLive = fleet.nodes.length - fleet.liveCount();
  const back = fleet.nodes.filter((n) => n.liveSince !== null && n.droppedAt !== null && n.droppedAt >= brokeAt);
  const liveAgain = back.map((n) => n.liveSince ?? 0);
  const total = fleet.nodes.length;
  return {
    cause,
    cpu: broken.cpu,
    stopSeconds: broken.stopSeconds,
    startSeconds: broken.startSeconds,
    fromBreak: milestones(liveAgain, brokeAt, total),
    fromReady: milestones(liveAgain, readyAt, total),
    downtimeMs: latencyOf(back.map((n) => (n.liveSince ?? 0) - (n.droppedAt ?? 0))),
    peakLivePerSecond: peakPerSecond(events.liveAt, brokeAt),
    peakAttemptsPerSecond: peakPerSecond(events.attempts, brokeAt),
    attempts: events.attempts.length,
    failures: events.failures,
    drops: dropsAfterBreak(events.drops, broken.liveAtBreak),
    halted: events.halted,
    notLive,
    registryCalls: await registryCallsSince(fleet, gateways, brokeAt),
  };
}

export async function dropPhase(fleet: Fleet, meters: Meters, progress: Progress): Promise<ReconnectMeasure> {
  progress(`sessions: breaking every socket at once; the nodes redial by themselves`);
  fleet.take();
  const liveAtBreak = fleet.liveCount();
  const back = await timed(meters, async () => {
    fleet.dropAll();
    await untilAllLive(fleet, Date.now() + RETURN_DEADLINE_MS, progress);
  });
  const broken = {
    cpu: back.window,
    brokeAt: back.from,
    liveAtBreak,
    readyAt: back.from,
    stopSeconds: null,
    startSeconds: null,
  };
  return measureReturn(fleet, meters.gateways, "drop", broken);
}

export async function restartPhase(fleet: Fleet, gateways: GatewaySet, progress: Progress): Promise<ReconnectMeasure> {
  progress(`sessions: restarting every gateway; the nodes redial by themselves`);
  fleet.take();
  const liveAtBreak = fleet.liveCount();
  const brokeAt = Date.now();
  let stoppedAt = brokeAt;
  const readyAts = await gateways.restart(() => {
    stoppedAt = Date.now();
    progress("sessions: every gateway stopped; starting them again");
  });
  const readyAt = Math.max(...readyAts);
  await untilAllLive(fleet, brokeAt + RETURN_DEADLINE_MS, progress);
  const broken = {
    cpu: null,
    brokeAt,
    liveAtBreak,
    readyAt,
    stopSeconds: (stoppedAt - brokeAt) / 1000,
    startSeconds: (readyAt - stoppedAt) / 1000,
  };
  return measureReturn(fleet, gateways, "restart", broken);
}

// Results of the heartbeat-path phase and how they print. Pure (no workerd, no network), so the arithmetic and the
// table are unit-tested.
import { HEARTBEAT_INTERVAL_MS } from "@meshgate/schemas";
import { quantile } from "../stats.js";
import { HEARTBEAT_VERIFY_TARGET } from "./format.js";

/** fetch (undici) is what most clients use; node:http on a keep-alive pool costs the shared CPUs far less. */
export type PathClient = "fetch" | "http";

export interface HeartbeatPathOptions {
  /** Distinct node identities; each sends one heartbeat per round. */
  nodes: number;
  /** Timed rounds; the median round is reported. */
  rounds: number;
  /** Heartbeats in flight at once. */
  concurrency: number;
  /** Default "fetch". */
  client?: PathClient;
  /**
   * Keep the Durable Objects' SQLite in a fresh directory under this one (e.g. /dev/shm), removed afterwards; default:
   * where startGateway keeps it (Miniflare's directory under os.tmpdir()).
   */
  storageDir?: string;
}

/** One timed round: every node sent one fresh heartbeat and every one was acked with 200. */
export interface PathRound {
  heartbeats: number;
  /** Wall time spent sending (signing in between chunks excluded). */
  seconds: number;
  /** CPU seconds over the same timed spans; null where the process could not be measured. */
  workerdCpuSeconds: number | null;
  clientCpuSeconds: number;
  /** Busy CPU seconds of the whole machine over the same spans (null without /proc). */
  machineCpuSeconds: number | null;
}

export interface CpuPerHeartbeat {
  /** CPU microseconds per accepted heartbeat, over all timed rounds. */
  workerdUs: number | null;
  clientUs: number;
  /** Everything else on the machine meanwhile, per heartbeat (noise on a shared machine). */
  otherUs: number | null;
  /** Cores' worth of CPU each used while sending. */
  workerdCores: number | null;
  clientCores: number;
  otherCores: number | null;
}

export interface HeartbeatPathResult extends HeartbeatPathOptions {
  client: PathClient;
  /** Median over rounds of accepted heartbeats per second of wall time. */
  perSecond: number;
  /** Each round's accepted/s, in the order measured. */
  samples: number[];
  /** Per-heartbeat latency (fetch until the ack's body is read) over every timed heartbeat, in milliseconds. */
  latencyMs: { p50: number; p99: number; max: number };
  heartbeats: number;
  cpu: CpuPerHeartbeat;
  /** HEARTBEAT_RATE_LIMIT passed to the gateway when the default budget would not cover the run; null: default. */
  rateLimit: string | null;
  /** Endpoint challenges the responder answered while rounds were timed (0 in steady state). */
  challengesDuringRounds: number;
  /** Untimed set-up: registering every node and waiting until each proved its endpoint. */
  warmupSeconds: number;
  storage: DoStorage;
  target: number;
  pass: boolean;
}

/**
 * Where the Durable Objects' SQLite files were and that filesystem's type: on a disk, each implicit transaction's
 * commit fsyncs on workerd's one thread; on tmpfs that costs nothing.
 */
export interface DoStorage {
  dir: string;
  fsType: string | null;
}

/** The type of the filesystem `dir` is on, from /proc/mounts text (the longest mount point containing it). */
export function mountFsType(dir: string, mounts: string): string | null {
  let best: { mount: string; type: string } | null = null;
  for (const line of mounts.split("\n")) {
    const [, mount, type] = line.split(" ");
    if (!mount || !type) continue;
    const inside = dir === mount || dir.startsWith(mount.endsWith("/") ? mount : `${mount}/`);
    if (inside && (best === null || mount.length >= best.mount.length)) best = { mount, type };
  }
  return best?.type ?? null;
}

export function pathRate(round: Pick<PathRound, "heartbeats" | "seconds">): number {
  return round.seconds > 0 ? round.heartbeats / round.seconds : Number.NaN;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** CPU per heartbeat and cores used, summed over the rounds (per-round CPU is too coarse: 10 ms ticks). */
export function cpuPerHeartbeat(rounds: readonly PathRound[]): CpuPerHeartbeat {
  const heartbeats = sum(rounds.map((r) => r.heartbeats));
  const seconds = sum(rounds.map((r) => r.seconds));
  const total = (pick: (r: PathRound) => number | null): number | null => {
    const values = rounds.map(pick);
    return values.every((v): v is number => v !== null) ? sum(values) : null;
  };
  const workerd = total((r) => r.workerdCpuSeconds);
  const client = sum(rounds.map((r) => r.clientCpuSeconds));
  const machine = total((r) => r.machineCpuSeconds);
  const other = machine === null ? null : Math.max(0, machine - client - (workerd ?? 0));
  const perHb = (s: number | null) => (s === null || heartbeats === 0 ? null : (s / heartbeats) * 1e6);
  const cores = (s: number | null) => (s === null || seconds === 0 ? null : s / seconds);
  return {
    workerdUs: perHb(workerd),
    clientUs: perHb(client) ?? Number.NaN,
    otherUs: perHb(other),
    workerdCores: cores(workerd),
    clientCores: cores(client) ?? Number.NaN,
    otherCores: cores(other),
  };
}

export interface PathMeasurements {
  rounds: readonly PathRound[];
  /** Every timed heartbeat's latency in milliseconds, any order. */
  latenciesMs: readonly number[];
  rateLimit: string | null;
  challengesDuringRounds: number;
  warmupSeconds: number;
  storage: DoStorage;
}

export function heartbeatPathResult(
  opts: HeartbeatPathOptions,
  m: PathMeasurements,
  target = HEARTBEAT_VERIFY_TARGET,
): HeartbeatPathResult {
  if (m.rounds.length === 0 || m.latenciesMs.length === 0) throw new Error("heartbeat path: no rounds were measured");
  const samples = m.rounds.map(pathRate);
  const perSecond = quantile(
    [...samples].sort((a, b) => a - b),
    0.5,
  );
  const latencies = [...m.latenciesMs].sort((a, b) => a - b);
  return {
    ...opts,
    client: opts.client ?? "fetch",
    perSecond,
    samples,
    latencyMs: {
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      max: latencies[latencies.length - 1] ?? Number.NaN,
    },
    heartbeats: sum(m.rounds.map((r) => r.heartbeats)),
    cpu: cpuPerHeartbeat(m.rounds),
    rateLimit: m.rateLimit,
    challengesDuringRounds: m.challengesDuringRounds,
    warmupSeconds: m.warmupSeconds,
    storage: m.storage,
    target,
    pass: perSecond >= target,
  };
}

export function pathReproduceCommand(opts: HeartbeatPathOptions): string {
  const client = (opts.client ?? "fetch") === "fetch" ? "" : ` --client ${opts.client}`;
  const storage = opts.storageDir === undefined ? "" : ` --storage-dir ${opts.storageDir}`;
  return `node --import tsx tools/bench/heartbeats/path-run.ts --nodes ${opts.nodes} --rounds ${opts.rounds} --concurrency ${opts.concurrency}${client}${storage}`;
}

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "?");
const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(n < 10 ? 2 : 1) : "?");
const cores = (n: number | null): string => (n === null || !Number.isFinite(n) ? "?" : n.toFixed(2));

export function formatHeartbeatPath(r: HeartbeatPathResult): string {
  const { cpu } = r;
  const cpuLine = (label: string, us: number | null, used: number | null) =>
    `${label} ${us === null || !Number.isFinite(us) ? "?" : int(us)} µs (${cores(used)} cores)`;
  const nodesAtInterval = (r.perSecond * HEARTBEAT_INTERVAL_MS) / 1000;
  const fsyncNote =
    r.storage.fsType === "tmpfs" ? "" : "; each commit's fsync blocks workerd (--storage-dir /dev/shm avoids it)";
  return [
    `Heartbeat path through the real gateway, one NodeRegistry (${int(r.nodes)} nodes, c=${r.concurrency}, median of ${r.rounds} rounds)`,
    `  accepted/s  ${int(r.perSecond)}  target ≥ ${int(r.target)}/s: ${r.pass ? "PASS" : "BELOW"}   rounds: ${r.samples.map(int).join(", ")}`,
    `  latency     p50 ${ms(r.latencyMs.p50)} ms, p99 ${ms(r.latencyMs.p99)} ms, max ${ms(r.latencyMs.max)} ms (${int(r.heartbeats)} heartbeats, all 200)`,
    `  CPU per hb  ${[
      cpuLine("workerd", cpu.workerdUs, cpu.workerdCores),
      cpuLine(`client (${r.client})`, cpu.clientUs, cpu.clientCores),
      cpuLine("other", cpu.otherUs, cpu.otherCores),
    ].join(", ")}`,
    `  Each: HTTP → RFC 9421 verify (WebCrypto) → parse → one RPC to NodeRegistry (nonce, rate token, seq, upsert) ` +
      `→ ack.`,
    `  Registry SQLite under ${r.storage.dir} (${r.storage.fsType ?? "unknown filesystem"})${fsyncNote}.`,
    `  Nodes were registered and endpoint-verified untimed (${r.warmupSeconds.toFixed(1)} s); ${r.challengesDuringRounds} challenges came while timed.`,
    ...(r.rateLimit === null
      ? []
      : [`  HEARTBEAT_RATE_LIMIT=${r.rateLimit} (default 60/10 would refuse this many rounds per node).`]),
    `  At this rate one registry serves ~${int(nodesAtInterval)} nodes heartbeating every ${HEARTBEAT_INTERVAL_MS / 1000} s.`,
    `  Reproduce: ${pathReproduceCommand(r)}`,
    ``,
  ].join("\n");
}

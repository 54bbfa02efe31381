// How the session harness's result prints: the phases, each node's load per minute, and the month's bill beside
// today's heartbeats. Pure, so the table is unit-tested.
import type { Bill } from "./cost.js";
import {
  AGENT_HANDSHAKE_TIMEOUT_MS,
  otherCores,
  registryCallsPerConnect,
  type LatencyMs,
  type Milestones,
  type ReconnectMeasure,
  type RegistryCalls,
  type SessionBenchOptions,
  type SessionBenchResult,
} from "./result.js";
import {
  HEARTBEAT,
  REGISTRY_CALLS,
  rowsWritten,
  SESSION_CLOSE,
  SESSION_FIRST_OPEN,
  SESSION_REOPEN,
  SESSION_STATE,
  SESSION_STATE_UNCHANGED,
  type RowWrite,
} from "./write-counts.js";

/** The registry's soft limit, from Cloudflare's Durable Objects limits (per object). */
const OBJECT_SOFT_LIMIT_PER_SECOND = 1_000;

const int = (n: number | null): string =>
  n === null || !Number.isFinite(n) ? "?" : Math.round(n).toLocaleString("en-US");
const fixed = (n: number | null, digits: number): string =>
  n === null || !Number.isFinite(n) ? "?" : n.toFixed(digits);
const usd = (n: number): string => `$${Math.round(n).toLocaleString("en-US")}`;
const mb = (kb: number | null): string => (kb === null ? "?" : `${int(kb / 1024)} MB`);
const latency = (l: LatencyMs | null): string =>
  l === null ? "none" : `p50 ${int(l.p50)} ms, p99 ${int(l.p99)} ms, max ${int(l.max)} ms`;
const secs = (n: number | null): string => (n === null ? "never" : `${fixed(n, 1)} s`);

/** "2.00 registry calls per connect (2 by the code)": measured from the registry's rows, beside the code's count. */
function registryCalls(c: RegistryCalls | null, byCode: number): string {
  const measured = registryCallsPerConnect(c);
  if (c === null || measured === null) return `${byCode} registry call${byCode === 1 ? "" : "s"} each by the code`;
  return `${fixed(measured, 2)} registry calls each (${int(c.statesPassedOn)} of ${int(c.connects)} states passed on; ${byCode} by the code)`;
}

function halts(record: Record<string, number>): string {
  const n = Object.values(record).reduce((a, b) => a + b, 0);
  return n === 0 ? "" : `; ${int(n)} stopped for good as the stock agent would (${Object.keys(record).join("; ")})`;
}

function failures(record: Record<string, number>): string {
  const entries = Object.entries(record).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? "no failures" : entries.map(([kind, n]) => `${kind} ×${int(n)}`).join(", ");
}

export function reproduceCommand(o: SessionBenchOptions): string {
  const flags = [
    `--nodes ${o.nodes}`,
    `--hold-seconds ${o.holdSeconds}`,
    `--quiet-seconds ${o.quietSeconds}`,
    `--concurrency ${o.concurrency}`,
    `--nodes-per-gateway ${o.nodesPerGateway}`,
    `--storage-dir ${o.storageDir}`,
    ...(o.deflate ? ["--deflate"] : []),
    ...(o.restart ? [] : ["--skip-restart"]),
    ...(o.attemptTimeoutMs === AGENT_HANDSHAKE_TIMEOUT_MS
      ? []
      : [`--attempt-timeout-seconds ${o.attemptTimeoutMs / 1000}`]),
    ...(o.heartbeatCpuUs === undefined ? [] : [`--heartbeat-cpu-us ${o.heartbeatCpuUs}`]),
  ];
  return `node --import tsx tools/bench/sessions/run.ts ${flags.join(" ")}`;
}

function phaseLines(r: SessionBenchResult): string[] {
  const { storm, memory, hold, quiet, burst, wake, derived: d } = r;
  const cheapestWake = Math.min(d.cpuPerAlarmUs ?? Number.NaN, d.cpuPerStateChangeUs ?? Number.NaN);
  return [
    `  connect storm   ${int(storm.live)} live in ${fixed(storm.seconds, 1)} s (${int(storm.live / storm.seconds)}/s, peak ${int(storm.peakLivePerSecond)}/s) at c=${r.options.concurrency}; ${int(storm.attempts)} upgrades, ${int(storm.retries)} retries, ${failures(storm.failures)}`,
    `                  upgrade → state ack ${latency(storm.latencyMs)}; workerd ${int(d.cpuPerConnectUs)} µs CPU per connect; first connects: ${registryCalls(storm.registryCalls, REGISTRY_CALLS.firstConnect)}${halts(storm.halted)}`,
    `  memory          workerd RSS ${mb(memory.baselineKb)} idle → ${mb(memory.connectedKb)} connected → ${mb(memory.heldKb)} after the hold: ${int(d.memoryPerSessionKb.connected)} KB per session (${int(d.memoryPerSessionKb.held)} after); ${fixed(d.fdsPerSession, 1)} descriptors per session`,
    `  hold            ${int(hold.pings)} pings in ${fixed(hold.seconds, 1)} s with ${int(hold.alarms.answered)} silence alarms: ${fixed(d.cpuPerPingGrossUs, 1)} µs workerd CPU per ping, alarms included; ${int(d.cpuPerAlarmCycleUs)} µs per alarm cycle (wake and later eviction) once the pings are taken out`,
    `  silence alarm   ${int(quiet.alarms.answered)} alarms in ${fixed(quiet.seconds, 1)} s without pings (${int(quiet.alarms.sent)} if pings arrived as sent): ${int(d.cpuPerAlarmUs)} µs each (object woken, alarm run, re-armed)`,
    `  keep-alive      ${int(burst.pings)} pings in a ${fixed(burst.seconds, 1)} s burst with ${int(burst.alarms.answered)} alarms: ${fixed(d.cpuPerPingUs, 1)} µs each, alarms taken out`,
    `  state change    ${int(wake.accepted)} accepted in ${fixed(wake.seconds, 1)} s (${int(wake.refused)} refused, ${int(wake.lost)} dropped, ${int(wake.unanswered)} never acknowledged), ${latency(wake.latencyMs)}: ${int(d.cpuPerStateChangeUs)} µs each (object woken, one registry RPC, ack)`,
    `  wake-ups/ping   ≤ ${fixed(d.wakesPerPingAtMost, 3)}: a ping costs ${fixed(d.cpuPerPingUs, 1)} µs; waking its object for it would cost at least ${int(cheapestWake)} µs (the cheaper of an alarm and a state change)`,
    `  registry        ${int(r.registry.liveSessions)} nodes listed live through a session; ${int(r.registry.touchedDuringHold)} rows changed over the hold, quiet and burst; ${int(r.registry.capacityUpdated)} hold the new capacity after the state changes`,
    ...reconnectLines(r.drop, "sockets drop", r.options.nodes),
    ...reconnectLines(r.restart, "restart", r.options.nodes),
    ...healthLines(r),
  ];
}

/** What went wrong while it should have been quiet, and what else used the machine. */
function healthLines(r: SessionBenchResult): string[] {
  const drops = Object.entries(r.steadyDrops).map(([code, n]) => `${int(n)} closed ${code}`);
  const log = Object.entries(r.gatewayLog).sort((a, b) => b[1] - a[1]);
  const cores = [r.storm, r.hold, r.quiet, r.burst, r.wake].map((w) => fixed(otherCores(w), 2)).join(" / ");
  const total = log.reduce((a, [, n]) => a + n, 0);
  return [
    `  steady state    ${drops.length === 0 ? "no session closed" : `sessions closed: ${drops.join(", ")}`} before the reconnect phases (${failures(r.steadyFailures)} redialling); other processes used ${cores} cores in storm / hold / quiet / burst / state change`,
    ...(log.length === 0
      ? ["  workerd log     empty"]
      : [
          `  workerd log     ${int(total)} lines:`,
          ...log.slice(0, 6).map(([kind, n]) => `                  ×${int(n)}  ${kind.slice(0, 150)}`),
        ]),
  ];
}

function closedAgain(drops: Record<string, number>): string {
  const entries = Object.entries(drops);
  if (entries.length === 0) return "; no session closed again";
  const text = entries.map(([code, n]) => `${int(n)} × ${code}${code === "4001" ? " (replaced)" : ""}`);
  return `; live sessions closed again: ${text.join(", ")}`;
}

function reconnectLines(x: ReconnectMeasure | null, label: string, nodes: number): string[] {
  if (x === null) return [`  ${label.padEnd(16)}skipped (--skip-restart)`];
  const at = (m: Milestones) => `50% ${secs(m.p50)}, 99% ${secs(m.p99)}, 100% ${secs(m.p100)}`;
  const perNode =
    x.cpu?.workerdCpuSeconds == null
      ? ""
      : `; workerd ${int((x.cpu.workerdCpuSeconds * 1e6) / nodes)} µs CPU per node (close and reopen)`;
  const what =
    x.cause === "drop"
      ? `every socket broken at once, gateways up: live again after ${at(x.fromBreak)}${perNode}`
      : `gateways stopped in ${fixed(x.stopSeconds, 1)} s and listening again ${fixed(x.startSeconds, 1)} s later; live again ${at(x.fromBreak)} after the stop, ${at(x.fromReady)} after the gateways were back`;
  return [
    `  ${label.padEnd(16)}${what}`,
    `                  each node down ${latency(x.downtimeMs)}; peak ${int(x.peakLivePerSecond)} live/s, ${int(x.peakAttemptsPerSecond)} upgrades/s; ${int(x.attempts)} upgrades sent (${failures(x.failures)})${closedAgain(x.drops)}${halts(x.halted)}${x.notLive > 0 ? `; ${int(x.notLive)} of ${int(nodes)} NOT live again` : ""}`,
    `                  reconnects: ${registryCalls(x.registryCalls, REGISTRY_CALLS.reconnect)}`,
  ];
}

function perMinuteLines(r: SessionBenchResult): string[] {
  const p = r.derived.perNodeMinute;
  const count = (w: readonly RowWrite[]) => {
    const c = rowsWritten(w);
    return `${c.rows} (${c.withIndexes})`;
  };
  return [
    `Per node per minute at steady state`,
    `  pings (incoming WebSocket messages, billed 20:1)  ${fixed(p.pings, 1).padStart(5)}  counted as sent`,
    `  silence-alarm invocations                         ${fixed(p.alarms, 1).padStart(5)}  replayed from the ping times by NodeSession's rule`,
    `  registry RPCs                                     ${fixed(p.registryRpcs, 1).padStart(5)}  registry rows changed during the hold (none should)`,
    `  rows written                                      ${fixed(p.rowsWritten, 1).padStart(5)}  one per alarm (its setAlarm); a ping writes nothing`,
    `  Rows written per event, table rows (with index entries): first connect ${count(SESSION_FIRST_OPEN)}, reconnect ${count(SESSION_REOPEN)}, changed state ${count(SESSION_STATE)}, unchanged state ${count(SESSION_STATE_UNCHANGED)}, close ${count(SESSION_CLOSE)}; a heartbeat ${count(HEARTBEAT)}.`,
    `  Registry calls per event by the code: first connect ${REGISTRY_CALLS.firstConnect}, reconnect ${REGISTRY_CALLS.reconnect}, changed state ${REGISTRY_CALLS.changedState}, unchanged state ${REGISTRY_CALLS.unchangedState}, close ${REGISTRY_CALLS.close} (when no newer socket is open), alarm ${REGISTRY_CALLS.alarm}.`,
    `  Counted from the code paths (tools/bench/sessions/write-counts.ts): kv puts and setAlarm one row each, an index one more when its column is written.`,
  ];
}

function costLines(r: SessionBenchResult): string[] {
  const c = r.cost;
  const row = (label: string, pick: (b: Bill) => number, note = "") =>
    `  ${label.padEnd(38)}${usd(pick(c.sessions)).padStart(10)}${usd(pick(c.heartbeats)).padStart(14)}${note}`;
  const source = r.heartbeatCpuMeasured ? "measured in this run" : "given";
  return [
    `Monthly cost at ${int(c.nodes)} nodes (30 days, Cloudflare's published prices, no free allowances)`,
    `  ${"".padEnd(38)}${"sessions".padStart(10)}${"heartbeats".padStart(14)}`,
    row("Workers requests ($0.30/M)", (b) => b.workersRequests, "  (a heartbeat every 2 s)"),
    row("Workers CPU ($0.02/M ms)", (b) => b.workersCpuMs, `  (${int(r.heartbeatCpuUs)} µs per heartbeat, ${source})`),
    row("DO requests ($0.15/M)", (b) => b.doRequests, "  (alarms; pings at 20:1 | one registry RPC each)"),
    row("DO duration ($12.50/M GB-s at 128 MB)", (b) => b.doGbSeconds, "  (alarm wakes | the registry never idle)"),
    row(
      "SQLite rows written ($1/M)",
      (b) => b.rowsWritten,
      `  (setAlarm | ${c.heartbeatRowsPerHeartbeat} per heartbeat)`,
    ),
    row("total", (b) => b.total),
    `  Heartbeats at ${int(c.nodes)} nodes are ${int(c.registryHeartbeatsPerSecond)}/s into one NodeRegistry, ${fixed(c.registryHeartbeatsPerSecond / OBJECT_SOFT_LIMIT_PER_SECOND, 0)}× an object's soft limit of ~${int(OBJECT_SOFT_LIMIT_PER_SECOND)} requests/s; sessions send it nothing at steady state.`,
  ];
}

export function formatSessionBench(r: SessionBenchResult): string {
  const o = r.options;
  const perGateway = Math.ceil(o.nodes / r.gateways);
  return [
    `Node sessions: ${int(o.nodes)} simulated nodes over WebSocket on ${r.gateways} local gateway${r.gateways === 1 ? "" : "s"} (≤ ${int(perGateway)} each), ${o.deflate ? "with" : "without"} permessage-deflate, state under ${o.storageDir}`,
    ...phaseLines(r),
    ...(r.silenced > 0
      ? [`  WARNING: the alarm replay closes ${int(r.silenced)} sessions for silence: CPU per alarm is suspect.`]
      : []),
    ``,
    ...perMinuteLines(r),
    ``,
    ...costLines(r),
    `  Reproduce: ${r.command}`,
    ``,
  ].join("\n");
}

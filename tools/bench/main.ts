// `npm run bench [-- --quick]`: measures client → Meshgate (workerd) → node agent → simulated backend against
// baselines taken in the same run (the backend alone, the node agent alone, a pass-through Worker on the same
// runtime), prints the issue's performance targets with pass/fail and writes .meshgate/bench-results.json.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MESHGATE_DIR } from "../gateway/paths.js";
import { installShutdownHandlers, onShutdown, shutdown } from "../processes/index.js";
import { machineMeter, measureCpu, otherCores } from "./cpu.js";
import { machineFacts } from "./machine.js";
import {
  latencyPhase,
  streamPhase,
  throughputPhase,
  type PhaseSizes,
  type Target,
  type ThroughputResult,
} from "./phases.js";
import type { HeartbeatVerifyOptions } from "./heartbeats/format.js";
import {
  formatHeartbeatPath,
  heartbeatPathPhase,
  type HeartbeatPathOptions,
} from "./heartbeats/heartbeat-path-bench.js";
import { formatHeartbeatVerify, heartbeatVerifyPhase } from "./heartbeats/heartbeat-verify-bench.js";
import { ISOLATES, isolatesPhase } from "./isolates-bench.js";
import { formatIsolates } from "./isolates-compare.js";
import { formatHotKey } from "./hot-key/format.js";
import { hotKeyPhase } from "./hot-key/hot-key-bench.js";
import { FULL as HOT_KEY_FULL, QUICK as HOT_KEY_QUICK } from "./hot-key/sizes.js";
import { loadModelLine } from "../load-model/bench-line.js";
import { formatReport, writeResults, type BenchResults } from "./report.js";
import { formatRoutingBench, runRoutingBench, type RoutingBenchOptions } from "./routing/routing-bench.js";
import { sessionVsDirectPhase } from "./session-vs-direct.js";
import { formatStatusBench, runStatusBench } from "./status/status-bench.js";
import { formatSessionBench } from "./sessions/format.js";
import {
  BENCH_FULL as SESSIONS_FULL,
  DEFAULTS as SESSION_DEFAULTS,
  QUICK as SESSIONS_QUICK,
} from "./sessions/options.js";
import type { SessionBenchOptions } from "./sessions/result.js";
import { sessionBenchPhase } from "./sessions/session-bench.js";
import { COALESCE_MS, LOG_FILE, startStack, type Stack } from "./stack.js";
import { STREAM_EVENTS, streamCpuPhase, type StreamCpuResult } from "./stream-cpu.js";
import { plainTarget, signedAgentTarget, STREAM_TOKEN_INTERVAL_MS } from "./targets.js";
import { judge, type TargetResult } from "./verdicts.js";

const RESULTS_FILE = join(MESHGATE_DIR, "bench-results.json");
/** The backend's default pace: none. Timed streams set their own (STREAM_TOKEN_INTERVAL_MS, per request). */
const TOKEN_INTERVAL_MS = 0;
const BACKEND_LATENCY_MS = 0;

const FULL: BenchSizes = {
  warmup: 200,
  latencyRequests: 500,
  concurrency: 32,
  throughputRequests: 3000,
  streamRequests: 80,
  rounds: 5,
  cpuStreams: 600,
};
const QUICK: BenchSizes = {
  warmup: 30,
  latencyRequests: 100,
  concurrency: 32,
  throughputRequests: 600,
  streamRequests: 16,
  rounds: 2,
  cpuStreams: 120,
};
/** Streams open at once while their CPU is measured: enough to keep workerd busy, few enough to stay unqueued. */
const STREAM_CPU_CONCURRENCY = 16;

interface BenchSizes extends PhaseSizes {
  /** Streams per Worker in the stream CPU phase. */
  cpuStreams: number;
}

function streamCpuOf(results: readonly StreamCpuResult[], label: string): number {
  const found = results.find((r) => r.label === label);
  if (!found) throw new Error(`no stream CPU result for ${label}`);
  return found.cpuUsPerStream;
}
const HEARTBEATS_FULL: HeartbeatVerifyOptions = { nodes: 2_000, batch: 2_000, rounds: 5 };
const HEARTBEATS_QUICK: HeartbeatVerifyOptions = { nodes: 500, batch: 500, rounds: 2 };
// The registry on tmpfs when there is one: Durable Object storage is not a local disk's fsync in production.
const TMPFS = existsSync("/dev/shm") ? { storageDir: "/dev/shm" } : {};
const HEARTBEAT_PATH_FULL: HeartbeatPathOptions = {
  nodes: 2_000,
  rounds: 5,
  concurrency: 32,
  client: "http",
  ...TMPFS,
};
const HEARTBEAT_PATH_QUICK: HeartbeatPathOptions = { nodes: 400, rounds: 2, concurrency: 32, client: "http", ...TMPFS };
const ROUTING_FULL: RoutingBenchOptions = { sizes: [100, 1_000, 10_000], decisions: 100_000 };
const ROUTING_QUICK: RoutingBenchOptions = { sizes: [100, 1_000, 10_000], decisions: 10_000 };

const HELP = `Usage: npm run bench [-- --quick] [--only isolates]

Starts a simulated backend, a node agent, the Meshgate gateway and a bare pass-through Worker (both under workerd),
measures latency, throughput, streaming and CPU per request for each path, and prints them against the targets.
Then compares the same request through the gateway to that agent (direct) and to a second agent in session mode
(it dials the gateway; requests come down its WebSocket), each pinned with provider.only, and streams through a
third agent in session mode that sends its answers in frames coalesced over ${COALESCE_MS} ms. Last, the request
path through a second gateway served by ${ISOLATES} isolates next to the first (1 isolate), with the time each request
spends taking its node's slot from an admission cell (Server-Timing admit). Then one key over a third gateway of
${ISOLATES} isolates (also alone: npm run bench:hot-key): its highest rate with a budget and rpm/tpm limits, a
budget running out mid-run, and small rpm and tpm limits.
First measures heartbeat signature verification in one workerd isolate (WebCrypto against @noble/ed25519), and
heartbeats accepted per second through the whole gateway path into one NodeRegistry, the router's decision
time on tables of 100, 1,000 and 10,000 live nodes, and nodes held on WebSocket sessions (2,000; 500 with --quick;
10,000 with npm run bench:sessions).
Results are also written to ${RESULTS_FILE}; the pieces' own output goes to ${LOG_FILE}.

  --quick     a short run (~2 min) for a smoke test; numbers are noisier
  --only isolates
              only the 1 vs ${ISOLATES} isolates comparison (after starting the stack); prints its table and writes
              no results file
  -h, --help  show this help
`;

const progress = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

/** Ordered from the fewest hops to the most, which is also how the tables read. */
async function buildTargets(stack: Stack): Promise<Target[]> {
  return [
    plainTarget("backend", "backend direct", stack.backendUrl, stack.apiKey),
    await signedAgentTarget(stack.agentUrl, stack.agentNodeId, stack.gatewaySeed),
    plainTarget("bare", "bare Worker (workerd)", stack.bareUrl, stack.apiKey),
    // Only the direct agent serves MODEL; checked on every answer, as the session agent runs alongside.
    plainTarget("meshgate", "Meshgate whole path", stack.gatewayUrl, stack.apiKey, stack.agentNodeId),
  ];
}

function get<T>(map: ReadonlyMap<Target["id"], T>, id: Target["id"]): T {
  const value = map.get(id);
  if (value === undefined) throw new Error(`missing result for ${id}`);
  return value;
}

function startBenchStack(): Promise<Stack> {
  // MESHGATE_INSPECTOR_PORT=9229 opens the gateway's V8 inspector, to take a CPU profile (DevTools) while it runs.
  const inspectorPort = Number(process.env["MESHGATE_INSPECTOR_PORT"]) || undefined;
  return startStack(
    {
      tokenIntervalMs: TOKEN_INTERVAL_MS,
      backendLatencyMs: BACKEND_LATENCY_MS,
      ...(inspectorPort ? { inspectorPort } : {}),
    },
    progress,
  );
}

const isolatesCommand = (quick: boolean): string => `npm run bench -- ${quick ? "--quick " : ""}--only isolates`;

/** The isolates phase alone, on a stack of its own. */
async function runIsolatesOnly(quick: boolean): Promise<void> {
  const stack = await startBenchStack();
  const result = await isolatesPhase(stack, quick ? QUICK : FULL, isolatesCommand(quick), progress);
  process.stdout.write(`\n${formatIsolates(result)}\n`);
}

async function run(quick: boolean): Promise<BenchResults> {
  const sizes = quick ? QUICK : FULL;
  const facts = machineFacts();
  const stack = await startBenchStack();
  const targets = await buildTargets(stack);
  const meters = [
    stack.meters.meshgate,
    stack.meters.bare,
    stack.meters.agent,
    stack.meters.sessionAgent,
    stack.meters.coalescedAgent,
    stack.meters.backend,
    stack.meters.client,
  ];
  const serverMeter: Record<Target["id"], string> = {
    backend: stack.meters.backend.label,
    agent: stack.meters.agent.label,
    bare: stack.meters.bare.label,
    meshgate: stack.meters.meshgate.label,
  };

  const machine = machineMeter("machine");
  const measuringSince = Date.now();
  const measuring = await measureCpu([...meters, machine], async () => {
    progress(`latency: ${sizes.latencyRequests} sequential requests per target in ${sizes.rounds} alternating rounds`);
    const latency = await latencyPhase(targets, sizes);
    const throughput = new Map<Target["id"], ThroughputResult>();
    for (const target of targets) {
      progress(`throughput: ${sizes.throughputRequests} requests at c=${sizes.concurrency} to ${target.label}`);
      throughput.set(target.id, await throughputPhase(target, sizes, meters, machine));
    }
    progress(`streaming: ${sizes.streamRequests} streamed requests per target`);
    const stream = await streamPhase(targets, sizes);
    progress(
      `stream CPU: ${sizes.cpuStreams} streams of ${STREAM_EVENTS} events per Worker, at c=${STREAM_CPU_CONCURRENCY}`,
    );
    const streamCpu = await streamCpuPhase(
      [
        { label: "bare", baseUrl: stack.bareUrl, apiKey: stack.apiKey, meter: stack.meters.bare },
        { label: "meshgate", baseUrl: stack.gatewayUrl, apiKey: stack.apiKey, meter: stack.meters.meshgate },
      ],
      { streams: sizes.cpuStreams, concurrency: STREAM_CPU_CONCURRENCY },
      sizes.rounds,
    );
    const sessionVsDirect = await sessionVsDirectPhase(
      stack,
      { ...sizes, streamConcurrency: STREAM_CPU_CONCURRENCY },
      meters,
      machine,
      progress,
    );
    return { latency, throughput, stream, streamCpu, sessionVsDirect };
  });
  const measuredSeconds = (Date.now() - measuringSince) / 1000;
  const { latency, throughput, stream, streamCpu, sessionVsDirect } = measuring.result;
  // After the window above: its second workerd would otherwise count as other processes' load there.
  const isolates = await isolatesPhase(stack, sizes, isolatesCommand(quick), progress);
  // Last, with a 4-isolate gateway of its own on the stack's backend.
  const hotKey = await hotKeyPhase(
    stack.backendUrl,
    stack.log,
    quick ? HOT_KEY_QUICK : HOT_KEY_FULL,
    `npm run bench:hot-key${quick ? " -- --quick" : ""}`,
    progress,
  );

  const results: TargetResult[] = targets.map((t) => ({
    id: t.id,
    label: t.label,
    latency: get(latency, t.id),
    throughput: get(throughput, t.id),
    stream: get(stream, t.id),
    serverMeter: serverMeter[t.id],
  }));
  return {
    command: quick ? "npm run bench -- --quick" : "npm run bench",
    mode: quick ? "quick" : "full",
    date: new Date().toISOString(),
    machine: facts,
    otherCores: otherCores(measuring.cpuSeconds, meters, machine, measuredSeconds),
    setup: { ...sizes, tokenIntervalMs: STREAM_TOKEN_INTERVAL_MS, backendLatencyMs: BACKEND_LATENCY_MS },
    targets: results,
    cpuMeters: meters.map((m) => m.label),
    streamCpu,
    sessionVsDirect,
    isolates,
    hotKey,
    verdicts: judge(results, {
      meshgateUs: streamCpuOf(streamCpu, "meshgate"),
      bareUs: streamCpuOf(streamCpu, "bare"),
    }),
  };
}

/** The session phase prices heartbeats with the heartbeat-path CPU this run measured, rather than measuring it again. */
function sessionOptions(quick: boolean, heartbeatCpuUs: number | null): SessionBenchOptions {
  return {
    ...SESSION_DEFAULTS,
    ...(quick ? SESSIONS_QUICK : SESSIONS_FULL),
    ...(heartbeatCpuUs === null ? {} : { heartbeatCpuUs: Math.max(1, Math.round(heartbeatCpuUs)) }),
  };
}

/** Every phase, then the tables and the results file. */
async function runAll(quick: boolean): Promise<void> {
  // First, each with its own workerd, stopped before the request phases start their stack.
  const heartbeats = await heartbeatVerifyPhase(quick ? HEARTBEATS_QUICK : HEARTBEATS_FULL, progress);
  const heartbeatPath = await heartbeatPathPhase(quick ? HEARTBEAT_PATH_QUICK : HEARTBEAT_PATH_FULL, progress);
  const routingOptions = quick ? ROUTING_QUICK : ROUTING_FULL;
  progress(`routing: ${routingOptions.decisions} decisions per table size`);
  const routing = runRoutingBench(routingOptions);
  const statusRounds = quick ? 5 : 30;
  progress(`mesh status: ${statusRounds} builds per mesh size`);
  const status = runStatusBench({ sizes: [100, 1_000, 10_000], rounds: statusRounds });
  const sessions = await sessionBenchPhase(sessionOptions(quick, heartbeatPath.cpu.workerdUs), progress);
  const results = await run(quick);
  process.stdout.write(formatReport(results));
  process.stdout.write(`\n${formatHeartbeatVerify(heartbeats)}\n${formatHeartbeatPath(heartbeatPath)}`);
  process.stdout.write(
    `\n${formatRoutingBench(routing, `node --import tsx tools/bench/routing/run.ts --decisions ${routingOptions.decisions}`)}`,
  );
  process.stdout.write(
    `\n${formatStatusBench(status, `node --import tsx tools/bench/status/run.ts --rounds ${statusRounds}`)}`,
  );
  process.stdout.write(`\n${formatSessionBench(sessions)}`);
  process.stdout.write(`\n${loadModelLine()}\n`);
  if (results.hotKey) {
    process.stdout.write(`\n${formatHotKey(results.hotKey)}`);
    // Spent past a budget, a wrong refusal or a limit let through: the run fails, loudly.
    if (results.hotKey.failures.length > 0) process.exitCode = 1;
  }
  writeResults(RESULTS_FILE, { ...results, heartbeats, heartbeatPath, routing, status, sessions });
  progress(`results in ${RESULTS_FILE}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: "boolean" }, only: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) return void process.stdout.write(HELP);
  if (values.only !== undefined && values.only !== "isolates") {
    process.stderr.write(`--only takes "isolates", not ${JSON.stringify(values.only)}\n\n${HELP}`);
    process.exitCode = 2;
    return;
  }
  installShutdownHandlers();
  // On Ctrl-C the running phase fails as its processes stop: report the interruption, not that failure.
  let interrupted = false;
  onShutdown(() => {
    interrupted = true;
    progress("stopping every process the bench started");
  });
  const started = Date.now();
  try {
    const quick = values.quick === true;
    if (values.only === "isolates") await runIsolatesOnly(quick);
    else await runAll(quick);
    progress(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } catch (err) {
    // Ctrl-C signals workerd too (Miniflare starts it in our process group), so a phase can fail on the dead gateway
    // before our own SIGINT handler has run: give the signal a moment before calling this a failure.
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (interrupted) {
      progress("interrupted");
    } else {
      progress(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      progress(`the pieces' output is in ${LOG_FILE}`);
    }
    process.exitCode = 1;
  } finally {
    // Stops every process started, on success and failure alike (Ctrl-C goes through the same cleanups).
    await shutdown();
  }
  process.exit();
}

void main();

// `node --import tsx tools/bench/sessions/run.ts [--nodes N] [--hold-seconds S] [--storage-dir D] ...` (also
// `npm run bench:sessions -- ...`): connects simulated nodes to local gateways over WebSocket and holds them, then
// prices keeping them live for a month beside today's heartbeats. Table on stdout, progress on stderr, everything in
// .meshgate/bench-sessions.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { MESHGATE_DIR } from "../../gateway/paths.js";
import { positive, runStandalone } from "../heartbeats/standalone.js";
import { formatSessionBench } from "./format.js";
import type { SessionBenchOptions, SessionBenchResult } from "./result.js";
import { DEFAULTS, QUICK } from "./options.js";
import { sessionBenchPhase, validateOptions } from "./session-bench.js";

const RESULTS_FILE = join(MESHGATE_DIR, "bench-sessions.json");

const HELP = `Usage: node --import tsx tools/bench/sessions/run.ts [options]     (or npm run bench:sessions -- [options])

Connects simulated node agents to local gateways over WebSocket (signed upgrades, state, a ping every 5 s) and
measures: the connect storm, workerd memory per session, CPU per keep-alive, per silence alarm and per state change,
and a restart of every gateway the nodes ride out with backoff and jitter. Then prices a month at 10,000 nodes with
Cloudflare's published prices, beside today's heartbeat design (whose CPU per heartbeat it measures first).
Table on stdout; the whole result in ${RESULTS_FILE}.

  --nodes N               simulated nodes (default ${DEFAULTS.nodes})
  --hold-seconds S        how long all of them ping, measured (default ${DEFAULTS.holdSeconds})
  --quiet-seconds S       then a window without pings, at most 5, to price the silence alarms (default ${DEFAULTS.quietSeconds})
  --concurrency N         upgrades in flight during the connect storm (default ${DEFAULTS.concurrency})
  --nodes-per-gateway N   sessions per workerd process (default ${DEFAULTS.nodesPerGateway}): one workerd fails SQLite-backed
                          objects with SQLITE_NOMEM near 3,000 awake, and holds 4 descriptors per session
  --storage-dir D         each gateway's Durable Object state goes in a fresh directory under D, removed afterwards
                          (default ${DEFAULTS.storageDir}; on a disk every commit's fsync slows the storm ~3x)
  --deflate               let the clients offer permessage-deflate (ws's default): more memory and CPU per session
  --skip-restart          leave out the two reconnect phases (every socket dropped; every gateway restarted)
  --attempt-timeout-seconds S
                          an upgrade unanswered this long is given up and redialled, as the agent's handshake timeout 
                          (default ${DEFAULTS.attemptTimeoutMs / 1000})
  --heartbeat-cpu-us US   price heartbeats with this workerd CPU per heartbeat instead of measuring it (~20 s)
  --quick                 ${QUICK.nodes} nodes, ${QUICK.holdSeconds} s hold (other options still apply)
  -h, --help              show this help
`;

function parse(values: Record<string, string | boolean | undefined>): SessionBenchOptions {
  const base = values["quick"] === true ? { ...DEFAULTS, ...QUICK } : DEFAULTS;
  const text = (name: string) => {
    const v = values[name];
    return typeof v === "string" ? v : undefined;
  };
  const cpu = text("heartbeat-cpu-us");
  const opts: SessionBenchOptions = {
    nodes: positive("nodes", text("nodes"), base.nodes),
    holdSeconds: positive("hold-seconds", text("hold-seconds"), base.holdSeconds),
    quietSeconds: positive("quiet-seconds", text("quiet-seconds"), base.quietSeconds),
    concurrency: positive("concurrency", text("concurrency"), base.concurrency),
    nodesPerGateway: positive("nodes-per-gateway", text("nodes-per-gateway"), base.nodesPerGateway),
    storageDir: text("storage-dir") ?? base.storageDir,
    deflate: values["deflate"] === true,
    restart: values["skip-restart"] !== true,
    attemptTimeoutMs:
      positive("attempt-timeout-seconds", text("attempt-timeout-seconds"), base.attemptTimeoutMs / 1000) * 1000,
    ...(cpu === undefined ? {} : { heartbeatCpuUs: positive("heartbeat-cpu-us", cpu, 1) }),
  };
  validateOptions(opts);
  return opts;
}

function writeResults(result: SessionBenchResult): void {
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, `${JSON.stringify(result, null, 2)}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: "string" },
      "hold-seconds": { type: "string" },
      "quiet-seconds": { type: "string" },
      concurrency: { type: "string" },
      "nodes-per-gateway": { type: "string" },
      "storage-dir": { type: "string" },
      deflate: { type: "boolean" },
      "skip-restart": { type: "boolean" },
      "attempt-timeout-seconds": { type: "string" },
      "heartbeat-cpu-us": { type: "string" },
      quick: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  await runStandalone(
    HELP,
    () => parse(values),
    async (opts, progress) => {
      const result = await sessionBenchPhase(opts, progress);
      writeResults(result);
      progress(`results in ${RESULTS_FILE}`);
      return result;
    },
    formatSessionBench,
  );
}

void main();

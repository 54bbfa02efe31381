// `node --import tsx tools/bench/heartbeats/path-run.ts [--nodes N] [--rounds N] [--concurrency N] [--client
// fetch|http]
// [--storage-dir DIR]`: the whole heartbeat path through the real gateway and its one NodeRegistry, on its own. Table
// on stdout, progress on
// stderr.
import { parseArgs } from "node:util";
import { positive, runStandalone } from "./standalone.js";
import {
  formatHeartbeatPath,
  heartbeatPathPhase,
  type HeartbeatPathOptions,
  type PathClient,
} from "./heartbeat-path-bench.js";

const DEFAULTS: HeartbeatPathOptions = { nodes: 2_000, rounds: 5, concurrency: 32 };

const HELP = `Usage: node --import tsx tools/bench/heartbeats/path-run.ts [options]

Measures signed heartbeats accepted per second by the production gateway (under workerd) with one NodeRegistry:
HTTP, signature verification, parsing, the registry's nonce/rate/sequence checks and upsert, and the ack.

  --nodes N        distinct nodes; each sends one heartbeat per round (default ${DEFAULTS.nodes})
  --rounds N       timed rounds; the median is reported (default ${DEFAULTS.rounds}; over 8 raises the rate limit)
  --concurrency N  heartbeats in flight at once (default ${DEFAULTS.concurrency})
  --client C       fetch (default) or http: node:http on a keep-alive pool, which leaves the shared CPUs more
                   room for workerd
  --storage-dir D  keep the registry's SQLite under D (e.g. /dev/shm, a tmpfs) instead of Miniflare's directory
                   under the system temp directory: on a disk, every commit's fsync stalls workerd's one thread
  -h, --help       show this help
`;

function client(text: string | undefined): PathClient {
  if (text === undefined || text === "fetch" || text === "http") return text ?? "fetch";
  throw new Error(`--client must be fetch or http, not ${JSON.stringify(text)}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: "string" },
      rounds: { type: "string" },
      concurrency: { type: "string" },
      client: { type: "string" },
      "storage-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  const parse = (): HeartbeatPathOptions => ({
    nodes: positive("nodes", values.nodes, DEFAULTS.nodes),
    rounds: positive("rounds", values.rounds, DEFAULTS.rounds),
    concurrency: positive("concurrency", values.concurrency, DEFAULTS.concurrency),
    client: client(values.client),
    ...(values["storage-dir"] === undefined ? {} : { storageDir: values["storage-dir"] }),
  });
  await runStandalone(HELP, parse, heartbeatPathPhase, formatHeartbeatPath);
}

void main();

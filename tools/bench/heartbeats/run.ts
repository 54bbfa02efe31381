// `node --import tsx tools/bench/heartbeats/run.ts [--nodes N] [--batch N] [--rounds N]`: the heartbeat-verify
// phase on its own (it is also a phase of `npm run bench`). Prints the table on stdout, progress on stderr.
import { parseArgs } from "node:util";
import { positive, runStandalone } from "./standalone.js";
import { formatHeartbeatVerify, heartbeatVerifyPhase } from "./heartbeat-verify-bench.js";

const DEFAULTS = { nodes: 2_000, batch: 2_000, rounds: 5 };

const HELP = `Usage: node --import tsx tools/bench/heartbeats/run.ts [options]

Measures how many signed heartbeats one workerd isolate verifies per second, with WebCrypto and with @noble/ed25519.

  --nodes N   distinct node keys (default ${DEFAULTS.nodes})
  --batch N   heartbeats per timed batch (default ${DEFAULTS.batch})
  --rounds N  timed batches per engine; the median is reported (default ${DEFAULTS.rounds})
  -h, --help  show this help
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: "string" },
      batch: { type: "string" },
      rounds: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  const parse = (): typeof DEFAULTS => ({
    nodes: positive("nodes", values.nodes, DEFAULTS.nodes),
    batch: positive("batch", values.batch, DEFAULTS.batch),
    rounds: positive("rounds", values.rounds, DEFAULTS.rounds),
  });
  await runStandalone(HELP, parse, heartbeatVerifyPhase, formatHeartbeatVerify);
}

void main();

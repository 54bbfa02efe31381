// `node --import tsx tools/bench/heartbeats/run.ts [--nodes N] [--batch N] [--rounds N]`: the heartbeat-verify
// phase on its own (it is also a phase of `npm run bench`). Prints the table on stdout, progress on stderr.
import { parseArgs } from "node:util";
import { installShutdownHandlers, shutdown } from "../../processes/index.js";
import { formatHeartbeatVerify, heartbeatVerifyPhase } from "./heartbeat-verify-bench.js";

const DEFAULTS = { nodes: 2_000, batch: 2_000, rounds: 5 };

const HELP = `Usage: node --import tsx tools/bench/heartbeats/run.ts [options]

Measures how many signed heartbeats one workerd isolate verifies per second, with WebCrypto and with @noble/ed25519.

  --nodes N   distinct node keys (default ${DEFAULTS.nodes})
  --batch N   heartbeats per timed batch (default ${DEFAULTS.batch})
  --rounds N  timed batches per engine; the median is reported (default ${DEFAULTS.rounds})
  -h, --help  show this help
`;

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${JSON.stringify(text)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { nodes: { type: "string" }, batch: { type: "string" }, rounds: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) return void process.stdout.write(HELP);
  let opts: typeof DEFAULTS;
  try {
    opts = {
      nodes: positive("nodes", values.nodes, DEFAULTS.nodes),
      batch: positive("batch", values.batch, DEFAULTS.batch),
      rounds: positive("rounds", values.rounds, DEFAULTS.rounds),
    };
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
    return void (process.exitCode = 2);
  }
  // Ctrl-C goes through tools/processes, which disposes Miniflare (and so workerd) before exiting.
  installShutdownHandlers();
  try {
    const result = await heartbeatVerifyPhase(opts, (line) => void process.stderr.write(`bench: ${line}\n`));
    process.stdout.write(formatHeartbeatVerify(result));
  } catch (err) {
    process.stderr.write(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  } finally {
    await shutdown();
  }
  process.exit();
}

void main();

// `npm run bench:hot-key [-- --quick]`: the hot-key bench alone, on a simulated backend of its own. Exits 1 when a
// check failed (spent past the budget, a wrong refusal, more let through than a limit allows).
import { mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { installShutdownHandlers, shutdown, type LineSink } from "../../processes/index.js";
import { BENCH_DIR, spawnBackend } from "../stack.js";
import { formatHotKey } from "./format.js";
import { hotKeyPhase } from "./hot-key-bench.js";
import { FULL, QUICK } from "./sizes.js";

const LOG = join(BENCH_DIR, "hot-key.log");
const progress = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

function sinks(): (name: string) => LineSink {
  mkdirSync(BENCH_DIR, { recursive: true });
  const fd = openSync(LOG, "w");
  return (name) => (line) => void writeSync(fd, `[${name}] ${line}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: "boolean" } } });
  const quick = values.quick === true;
  installShutdownHandlers();
  try {
    const sink = sinks();
    const backend = spawnBackend({ tokenIntervalMs: 0, backendLatencyMs: 0 }, sink("sim-backend"));
    const backendUrl = (await backend.waitForLine(/listening on (http:\/\/\S+)/))[1] ?? "";
    const command = `npm run bench:hot-key${quick ? " -- --quick" : ""}`;
    const result = await hotKeyPhase(backendUrl, sink, quick ? QUICK : FULL, command, progress);
    process.stdout.write(formatHotKey(result));
    if (result.failures.length > 0) process.exitCode = 1;
  } catch (err) {
    progress(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)} (the pieces' output: ${LOG})`);
    process.exitCode = 1;
  } finally {
    await shutdown();
  }
  process.exit();
}

void main();

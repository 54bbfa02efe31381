// `node --import tsx tools/bench/request-floor/run.ts [--requests N]`: what one non-streamed request costs a Worker
// under workerd when it does only what the issues require of a metered, signed gateway, step by step
// (workers/request-floor.ts), next to the bench's bare pass-through, measured with `npm run bench`'s throughput phase
// (c=32). The floor for the "gateway CPU per non-streamed request" figure, before any of Meshgate's own logic.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { installShutdownHandlers, shutdown } from "../../processes/index.js";
import { startPassThrough } from "../bare-gateway.js";
import { machineMeter, processMeter } from "../cpu.js";
import { throughputPhase } from "../phases.js";
import { logSinks, spawnBackend } from "../stack.js";
import { plainTarget } from "../targets.js";

const FLOOR = fileURLToPath(new URL("./workers/request-floor.ts", import.meta.url));
const VARIANTS = [
  { name: "bare", steps: "", label: "native pass-through (the bare Worker)" },
  { name: "parse", steps: "parse", label: "+ key hash checked, request parsed and re-sent" },
  { name: "sign", steps: "parse,sign", label: "+ dispatch signed (content digest, Ed25519)" },
  { name: "read", steps: "parse,sign,read", label: "+ answer read, parsed and rebuilt" },
  { name: "receipt", steps: "parse,sign,read,receipt", label: "+ answer digest, receipt verified (Ed25519)" },
  { name: "record", steps: "parse,sign,read,receipt,record", label: "+ usage row written to a Durable Object" },
  {
    name: "batch",
    steps: "parse,sign,read,receipt,record,batch",
    label: "the same, rows batched (one RPC per 200 ms)",
  },
  {
    name: "assemble",
    steps: "parse,sign,read,assemble,receipt,record,batch",
    label: "the same, node asked to stream, assembled",
  },
];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: "string", default: "3000" } } });
  installShutdownHandlers();
  const sink = logSinks();
  try {
    const backend = spawnBackend({ tokenIntervalMs: 0, backendLatencyMs: 0 }, sink("sim-backend"));
    const backendUrl = (await backend.waitForLine(/listening on (http:\/\/\S+)/))[1] ?? "";
    const machine = machineMeter("machine");
    const rows: { label: string; cpuUs: number }[] = [];
    for (const v of VARIANTS) {
      const worker = await startPassThrough(
        {
          name: `meshgate-floor-${v.name}`,
          main: FLOOR,
          purpose: `request floor ${v.name}`,
          durableObjects: ["Ledger"],
        },
        backendUrl,
        sink(v.name),
        { STEPS: v.steps },
      );
      if (worker.pid === undefined)
        throw new Error("cannot find the workerd process (CPU accounting needs Linux /proc)");
      const meter = processMeter(v.name, worker.pid);
      const sizes = {
        warmup: 200,
        latencyRequests: 0,
        concurrency: 32,
        throughputRequests: Number(values.requests),
        streamRequests: 0,
        rounds: 1,
      };
      const result = await throughputPhase(plainTarget("bare", v.name, worker.url, "unused"), sizes, [meter], machine);
      rows.push({ label: v.label, cpuUs: result.cpuUsPerRequest[v.name] ?? Number.NaN });
      await worker.stop();
    }
    const base = rows[0]?.cpuUs ?? Number.NaN;
    process.stdout.write(`workerd CPU per non-streamed request (${values.requests} requests each, c=32)\n`);
    for (const r of rows)
      process.stdout.write(
        `  ${r.label.padEnd(50)} ${r.cpuUs.toFixed(0).padStart(6)} µs  ${(r.cpuUs / base).toFixed(2)}x\n`,
      );
    process.stdout.write(
      `reproduce: node --import tsx tools/bench/request-floor/run.ts --requests ${values.requests}\n`,
    );
  } finally {
    await shutdown();
  }
}

void main().then(
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`request-floor: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

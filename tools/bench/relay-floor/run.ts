// `node --import tsx tools/bench/relay-floor/run.ts [--streams N]`: what relaying a 50-event stream costs a Worker
// under workerd, by how much JavaScript touches each chunk: the native pass-through (the bench's bare Worker), every
// chunk read and written in JavaScript, and the body teed natively (to the client directly, or piped into a stream
// the Worker holds so it could add an event) with a copy read a chunk at a time, in batches, or polled. The floor
// any gateway design meets, measured with the same stream CPU phase as `npm run bench`.
//
// Read the batch rows with care: the runtime pulls a teed body for the larger of its branches' pending reads, so a
// copy read in batches makes the client's events arrive in batches too (the bench's "streamed events arriving
// separately" falls to ~0.3x). Polling leaves the client's pace alone; it is the fair floor for a native relay.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { installShutdownHandlers, shutdown } from "../../processes/index.js";
import { startPassThrough } from "../bare-gateway.js";
import { processMeter } from "../cpu.js";
import { logSinks, spawnBackend } from "../stack.js";
import { STREAM_EVENTS, streamCpuPhase, type StreamCpuTarget } from "../stream-cpu.js";

const VARIANTS = [
  { name: "bare", file: "../bare-worker.ts", vars: {}, label: "native pass-through (the bare Worker)" },
  {
    name: "js-pump",
    file: "./workers/js-pump.ts",
    vars: { READ: "default", WRITES: "awaited" },
    label: "every chunk read and written in JavaScript",
  },
  {
    name: "js-queued",
    file: "./workers/js-pump.ts",
    vars: { READ: "default", WRITES: "queued" },
    label: "the same, writes not awaited",
  },
  {
    name: "js-queued-byob",
    file: "./workers/js-pump.ts",
    vars: { READ: "byob", WRITES: "queued" },
    label: "the same, read into a byte buffer",
  },
  {
    name: "tee-read",
    file: "./workers/tee.ts",
    vars: { COPY_READ: "chunks" },
    label: "native relay, copy read chunk by chunk",
  },
  {
    name: "tee-batched",
    file: "./workers/tee.ts",
    vars: { COPY_READ: "batches" },
    label: "native relay, copy read in batches",
  },
  {
    name: "tee-poll-direct",
    file: "./workers/tee.ts",
    vars: { COPY_READ: "poll" },
    label: "native relay, copy polled",
  },
  {
    name: "tee-pipe",
    file: "./workers/tee-pipe.ts",
    vars: { COPY_READ: "batches" },
    label: "piped into a held stream, copy in batches",
  },
  {
    name: "tee-poll",
    file: "./workers/tee-pipe.ts",
    vars: { COPY_READ: "poll" },
    label: "piped into a held stream, copy polled",
  },
];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { streams: { type: "string", default: "400" } } });
  installShutdownHandlers();
  const sink = logSinks();
  try {
    const backend = spawnBackend({ tokenIntervalMs: 0, backendLatencyMs: 0 }, sink("sim-backend"));
    const backendUrl = (await backend.waitForLine(/listening on (http:\/\/\S+)/))[1] ?? "";
    const targets: StreamCpuTarget[] = [];
    for (const v of VARIANTS) {
      const main = fileURLToPath(new URL(v.file, import.meta.url));
      const worker = await startPassThrough(
        { name: `meshgate-relay-${v.name}`, main, purpose: `relay variant ${v.name}` },
        backendUrl,
        sink(v.name),
        v.vars,
      );
      if (worker.pid === undefined)
        throw new Error("cannot find the workerd process (CPU accounting needs Linux /proc)");
      targets.push({ label: v.name, baseUrl: worker.url, apiKey: "unused", meter: processMeter(v.name, worker.pid) });
    }
    const results = await streamCpuPhase(targets, { streams: Number(values.streams), concurrency: 16 }, 2);
    const base = results[0]?.cpuUsPerStream ?? Number.NaN;
    process.stdout.write(
      `workerd CPU per ${STREAM_EVENTS}-event stream (${results[0]?.streams ?? 0} streams each, c=16)\n`,
    );
    for (const [i, r] of results.entries()) {
      process.stdout.write(
        `  ${(VARIANTS[i]?.label ?? r.label).padEnd(44)} ${r.cpuUsPerStream.toFixed(0).padStart(6)} µs  ${(r.cpuUsPerStream / base).toFixed(2)}x\n`,
      );
    }
    process.stdout.write(`reproduce: node --import tsx tools/bench/relay-floor/run.ts --streams ${values.streams}\n`);
  } finally {
    await shutdown();
  }
}

void main().then(
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`relay-floor: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

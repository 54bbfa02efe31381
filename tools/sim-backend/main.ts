// CLI for the simulated backend: `tsx tools/sim-backend/main.ts --port 8000 --models a,b --latency-ms 20`.
import { parseArgs } from "node:util";
import { DEFAULT_SIM_MODELS, startSimBackend } from "./server.js";

const HELP = `Usage: tsx tools/sim-backend/main.ts [options]

A SIMULATED OpenAI-compatible inference server: deterministic echo replies, no real model.

Options:
  --host HOST               interface to bind (default 127.0.0.1)
  --port N                  port (default 8000; 0 picks a free one)
  --models a,b              model ids to serve (default ${DEFAULT_SIM_MODELS.join(",")})
  --latency-ms N            delay before each response starts (default 0)
  --prefill-ms-per-kib N    extra delay per KiB of request body before a response starts, as a prompt's
                            prefill takes (default 0)
  --token-interval-ms N     delay between streamed chunks (default 0)
  --fail-rate R             probability 0..1 of answering 500 (default 0)
  --hang-rate R             probability 0..1 of accepting a request and never answering (default 0)
  --responses-api           serve POST /v1/responses natively (stateless, streamed or not; the same replies and
                            tool calls as chat), as vLLM and Ollama 0.13.3+ do (default: off, a 404)
  --context-length N        serve every model with an N-token context, as vLLM does: max_model_len on /v1/models,
                            400 for a prompt plus max_tokens above it, replies without a cap run to it (default: none)
  -h, --help                show this help

GET /sim/stats reports what the backend received (requests, peak concurrency, body keys) and streamed (events
written, streams the client left).
`;

function number(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > max)
    throw new Error(`--${name} must be a number between 0 and ${max}`);
  return value;
}

/** The most a gateway lets a node advertise (schemas' MAX_CONTEXT_TOKENS; this backend stands alone). */
const MAX_CONTEXT_LENGTH = 10_000_000;

function contextLength(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > MAX_CONTEXT_LENGTH)
    throw new Error(`--context-length must be an integer from 1 to ${MAX_CONTEXT_LENGTH}`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: "string" },
      port: { type: "string" },
      models: { type: "string" },
      "latency-ms": { type: "string" },
      "prefill-ms-per-kib": { type: "string" },
      "token-interval-ms": { type: "string" },
      "fail-rate": { type: "string" },
      "hang-rate": { type: "string" },
      "context-length": { type: "string" },
      "responses-api": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  const backend = await startSimBackend({
    host: values.host ?? "127.0.0.1",
    port: number("port", values.port, 8000, 65535),
    models: values.models
      ? values.models
          .split(",")
          .map((m) => m.trim())
          .filter(Boolean)
      : DEFAULT_SIM_MODELS,
    latencyMs: number("latency-ms", values["latency-ms"], 0, 600_000),
    prefillMsPerKiB: number("prefill-ms-per-kib", values["prefill-ms-per-kib"], 0, 60_000),
    tokenIntervalMs: number("token-interval-ms", values["token-interval-ms"], 0, 60_000),
    failRate: number("fail-rate", values["fail-rate"], 0, 1),
    hangRate: number("hang-rate", values["hang-rate"], 0, 1),
    responsesApi: values["responses-api"] ?? false,
    ...(values["context-length"] === undefined ? {} : { contextLength: contextLength(values["context-length"]) }),
  });
  const stop = (): void => void backend.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`sim-backend: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

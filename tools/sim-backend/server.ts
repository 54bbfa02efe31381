// A simulated OpenAI-compatible inference server (no model behind it) for `npm start`, tests and benchmarks.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { chatCompletion } from "./chat.js";
import { textCompletion } from "./completions.js";
import { embeddings } from "./embeddings.js";
import { writeEventStream } from "./event-stream.js";
import { nativeResponse, RESPONSES_PATH } from "./native-responses.js";
import { ApiError, parseJsonObject, readBody, sendError, sendJson, sleep, type JsonObject } from "./http-io.js";
import type { SimResponse } from "./responses.js";
import { StatsRecorder, type SimStats } from "./stats.js";

export type { SimStats } from "./stats.js";

export const SIMULATED_OWNER = "meshgate-simulated-backend";
export const DEFAULT_SIM_MODELS = ["sim-small", "sim-embed"];

export interface SimBackendOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  models?: readonly string[];
  /** Delay before the response starts (time to first byte). */
  latencyMs?: number;
  /**
   * Extra delay per KiB of request body before the response starts: an honest server's prefill, which grows with the
   * prompt (a long prompt's first token comes late on any node).
   */
  prefillMsPerKiB?: number;
  /** Delay between streamed chunks. */
  tokenIntervalMs?: number;
  /** Probability (0..1) of answering a request with a 500. */
  failRate?: number;
  /**
   * Probability (0..1) of accepting a request and never answering it: no status, no bytes, the connection held open
   * until the client gives up or the server closes. A node that hangs like this is what first-token timeouts are for.
   */
  hangRate?: number;
  random?: () => number;
  /** Report no usage at all, in answers or streams (as some older servers do), whatever the request asks. */
  omitUsage?: boolean;
  /**
   * Serve every model with this context (tokens), as vLLM does: `max_model_len` on /v1/models, a 400 in vLLM's error
   * shape for a prompt plus cap that exceeds it, and a request without a cap generated up to it.
   */
  contextLength?: number;
  /** Serve POST /v1/responses natively (stateless), as vLLM and Ollama 0.13.3+ do; otherwise it is a 404. */
  responsesApi?: boolean;
  log?: (line: string) => void;
}

export interface SimBackend {
  url: string;
  port: number;
  /** What the backend has received so far (also served as JSON at GET /sim/stats). */
  stats(): SimStats;
  /** Starts counting peak concurrency afresh from the requests open now. */
  resetPeak(): void;
  close(): Promise<void>;
}

/** Not an OpenAI path, so it cannot collide with an endpoint a gateway forwards. */
export const SIM_STATS_PATH = "/sim/stats";

type Handler = (body: JsonObject, model: string, contextLength?: number) => SimResponse;

const HANDLERS: Record<string, Handler> = {
  "/v1/chat/completions": chatCompletion,
  "/v1/completions": textCompletion,
  "/v1/embeddings": embeddings,
};

export async function startSimBackend(options: SimBackendOptions = {}): Promise<SimBackend> {
  const models = options.models ?? DEFAULT_SIM_MODELS;
  const latencyMs = options.latencyMs ?? 0;
  const tokenIntervalMs = options.tokenIntervalMs ?? 0;
  const failRate = options.failRate ?? 0;
  const hangRate = options.hangRate ?? 0;
  const random = options.random ?? Math.random;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const created = Math.floor(Date.now() / 1000);
  const contextLength = options.contextLength;
  const modelList = {
    object: "list",
    data: models.map((id) => ({
      id,
      object: "model",
      created,
      owned_by: SIMULATED_OWNER,
      ...(contextLength === undefined ? {} : { max_model_len: contextLength }),
    })),
  };
  const stats = new StatsRecorder();

  /**
   * A request may set its own pace between streamed chunks (`sim_token_interval_ms`, 0–60,000): the benchmark paces
   * the streams it times while its other requests, which a gateway may ask for as streams, come at once.
   */
  function paceOf(body: JsonObject): number | undefined {
    const pace = body["sim_token_interval_ms"];
    return typeof pace === "number" && Number.isInteger(pace) && pace >= 0 && pace <= 60_000 ? pace : undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?", 1)[0]!;
    if (req.method === "GET" && path === "/v1/models") return sendJson(res, 200, modelList);
    if (req.method === "GET" && path === SIM_STATS_PATH) return sendJson(res, 200, stats.snapshot());
    const handler =
      req.method !== "POST"
        ? undefined
        : path === RESPONSES_PATH
          ? options.responsesApi
            ? nativeResponse
            : undefined
          : HANDLERS[path];
    if (!handler)
      throw new ApiError(
        404,
        `Unknown request URL: ${req.method ?? "?"} ${path}.`,
        "invalid_request_error",
        "unknown_url",
      );
    stats.opened(res, path);
    const raw = await readBody(req);
    const body = parseJsonObject(raw);
    stats.body(Object.keys(body));
    if (hangRate > 0 && random() < hangRate) {
      stats.hang();
      // Never answer; the request stays open (and counted) until the client or close() ends the connection.
      return new Promise<void>((resolve) => res.once("close", resolve));
    }
    const model = body["model"];
    if (typeof model !== "string")
      throw new ApiError(400, "`model` is required.", "invalid_request_error", "missing_required_parameter", "model");
    if (!models.includes(model)) {
      throw new ApiError(
        404,
        `The model \`${model}\` does not exist.`,
        "invalid_request_error",
        "model_not_found",
        "model",
      );
    }
    if (options.omitUsage) delete body["stream_options"];
    const result = handler(body, model, contextLength);
    if (options.omitUsage && result.kind === "json" && typeof result.body === "object" && result.body !== null)
      delete (result.body as JsonObject)["usage"];
    await sleep(latencyMs + ((options.prefillMsPerKiB ?? 0) * raw.length) / 1024);
    if (failRate > 0 && random() < failRate) {
      stats.fail();
      throw new ApiError(500, "Simulated backend failure (fail-rate).", "server_error", "simulated_failure");
    }
    if (result.kind === "json") return sendJson(res, 200, result.body);
    await writeEventStream(res, result.events, paceOf(body) ?? tokenIntervalMs, stats, result.format);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      sendError(
        res,
        err instanceof ApiError
          ? err
          : new ApiError(500, "Simulated backend internal error.", "server_error", "internal_error"),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port, address, family } = server.address() as AddressInfo;
  const host = family === "IPv6" ? `[${address}]` : address;
  const url = `http://${host}:${port}`;
  log(
    `sim-backend: SIMULATED OpenAI-compatible backend (no real model) listening on ${url} models=${models.join(",")}`,
  );

  return {
    url,
    port,
    stats: () => stats.snapshot(),
    resetPeak: () => stats.resetPeak(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// The request path of /v1/chat/completions, /v1/completions and /v1/embeddings, top to bottom:
// authenticate → validate → pick nodes → forward (with failover) → meter the body → record usage and outcomes
// off the response path → return the body as it streams.
import { ChatCompletionRequestSchema, CompletionRequestSchema, EmbeddingRequestSchema, utf8 } from "@meshgate/schemas";
import type { z } from "zod";
import { authenticate } from "../http/auth.js";
import { HttpError } from "../http/http-error.js";
import { readJson } from "../http/json-body.js";
import type { GatewayRequest } from "../http/request-id.js";
import { dispatch, inFlightCounts, releaseNode, type DispatchResult } from "../mesh/dispatch.js";
import { gatewayIdentity } from "../mesh/gateway-identity.js";
import { nodeSnapshot } from "../mesh/node-snapshot.js";
import { recordUsage, reportOutcome } from "../mesh/reporting.js";
import { meterStream } from "../metering/response-meter.js";
import { usageOfJsonBody, type TokenCounts } from "../metering/usage.js";
import { rankNodes } from "../routing/select.js";

/** Nodes tried per request before giving up. */
export const MAX_ATTEMPTS = 3;

interface InferenceBody {
  model: string;
  stream?: boolean | null | undefined;
  stream_options?: { include_usage?: boolean | undefined } | null | undefined;
}

export interface InferenceKind {
  path: string;
  schema: z.ZodType<InferenceBody>;
  canStream: boolean;
}

export const CHAT: InferenceKind = { path: "/v1/chat/completions", schema: ChatCompletionRequestSchema, canStream: true };
export const COMPLETIONS: InferenceKind = { path: "/v1/completions", schema: CompletionRequestSchema, canStream: true };
export const EMBEDDINGS: InferenceKind = { path: "/v1/embeddings", schema: EmbeddingRequestSchema, canStream: false };

/** Response headers from a node that are safe and useful to pass to the client. */
const PASSED_HEADERS = ["content-type", "openai-processing-ms", "openai-version", "cache-control"];

const NO_USAGE: TokenCounts = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

function clientHeaders(response: Response, nodeId: string, attempts: number): Headers {
  const headers = new Headers({ "x-meshgate-node": nodeId, "x-meshgate-attempts": String(attempts) });
  for (const name of PASSED_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return headers;
}

function withUsageRequested(body: InferenceBody): Uint8Array {
  return utf8(JSON.stringify({ ...body, stream_options: { ...body.stream_options, include_usage: true } }));
}

function dispatchFailure(result: Extract<DispatchResult, { ok: false }>): HttpError {
  const allBusy = result.attempts.every((a) => a.status === 429);
  if (allBusy) {
    return new HttpError(503, "Every node serving this model is busy. Retry shortly.", { code: "no_capacity", headers: { "retry-after": "1" } });
  }
  return new HttpError(502, `Every node tried (${result.attempts.length}) failed to answer.`, { type: "api_error", code: "upstream_error" });
}

export function inferenceRoute(kind: InferenceKind) {
  return async (request: GatewayRequest, env: Env, ctx: ExecutionContext): Promise<Response> => {
    const startedAt = Date.now();
    const apiKey = await authenticate(request, env, startedAt);
    const { value: body, bytes } = await readJson(request, kind.schema);

    const streamed = kind.canStream && body.stream === true;
    const clientWantsUsage = body.stream_options?.include_usage === true;
    // Always ask a streaming node for usage, so every streamed token is metered; hide it again if not requested.
    const hideUsage = streamed && !clientWantsUsage;
    const forwarded = hideUsage ? withUsageRequested(body) : bytes;

    const snapshot = await nodeSnapshot(env, ctx, startedAt);
    const ranked = rankNodes(snapshot.routable, { model: body.model, localInFlight: inFlightCounts(), random: Math.random, maxAttempts: MAX_ATTEMPTS });
    if (ranked.kind === "unknown_model") {
      throw new HttpError(404, `The model \`${body.model}\` does not exist or you do not have access to it.`, { param: "model", code: "model_not_found" });
    }
    if (ranked.kind === "saturated") {
      throw new HttpError(503, "Every node serving this model is at capacity. Retry shortly.", { code: "no_capacity", headers: { "retry-after": "1" } });
    }

    const { signer } = await gatewayIdentity(env);
    const result = await dispatch(ranked.nodes, { path: kind.path, body: forwarded, requestId: request.id, signer, now: Date.now, clientGone: request.signal });
    for (const failed of result.attempts) {
      // A failure's speed says nothing about how fast the node answers: only successes feed its latency estimate.
      if (failed.error !== null) reportOutcome({ nodeId: failed.node.id, ok: false, ttfbMs: null, at: startedAt }, env, ctx);
    }
    if (!result.ok) {
      if (result.clientGone) throw new HttpError(499, "The client closed the request.", { code: "client_closed_request" });
      throw dispatchFailure(result);
    }

    const { node, response } = result;
    let settled = false;
    const settle = (usage: TokenCounts | null, nodeFailed: boolean): void => {
      if (settled) return;
      settled = true;
      releaseNode(node.id);
      const finishedAt = Date.now();
      recordUsage(
        {
          request_id: request.id,
          created: startedAt,
          key_id: apiKey.id,
          node_id: node.id,
          model: body.model,
          ...(usage ?? NO_USAGE),
          latency_ms: finishedAt - startedAt,
          status: response.status,
          streamed,
        },
        env,
        ctx,
      );
      reportOutcome({ nodeId: node.id, ok: !nodeFailed && response.status < 500, ttfbMs: result.ttfbMs, at: finishedAt }, env, ctx);
    };
    const headers = clientHeaders(response, node.id, result.attempts.length);

    if (streamed && (response.headers.get("content-type") ?? "").includes("text/event-stream")) {
      const metered = meterStream(response.body, { hideUsage });
      request.signal.addEventListener("abort", metered.abandon, { once: true });
      // A stream that ends without [DONE] was cut short by the node, even if the connection closed cleanly.
      ctx.waitUntil(metered.result.then((m) => settle(m.usage, m.failure === "upstream_error" || (m.failure === null && !m.completed))));
      return new Response(metered.body, { status: response.status, headers });
    }

    // A whole answer is read before it is sent: its usage is then known, and a body that breaks off never reaches the
    // client half-written. A client that leaves meanwhile still frees the node's slot and leaves a usage row.
    request.signal.addEventListener("abort", () => settle(null, false), { once: true });
    let answer: ArrayBuffer;
    try {
      answer = await response.arrayBuffer();
    } catch {
      settle(null, true);
      throw new HttpError(502, "The node failed while sending its answer.", { type: "api_error", code: "upstream_error" });
    }
    settle(usageOfJsonBody(answer), false);
    return new Response(answer, { status: response.status, headers });
  };
}

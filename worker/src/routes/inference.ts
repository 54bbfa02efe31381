// The request path of /v1/chat/completions, /v1/completions and /v1/embeddings, top to bottom:
// authenticate → validate (and take out the routing controls) → pick nodes → forward (with failover) → meter the
// body → record usage and outcomes off the response path → return the body as it streams.
import { ChatCompletionRequestSchema, CompletionRequestSchema, EmbeddingRequestSchema, utf8 } from "@meshgate/schemas";
import type { z } from "zod";
import { authenticate } from "../http/auth.js";
import { HttpError } from "../http/http-error.js";
import { readJson } from "../http/json-body.js";
import type { GatewayRequest } from "../http/request-id.js";
import { releaseNode, sendToNode } from "../mesh/dispatch.js";
import { routeRequest, type RouteResult } from "../mesh/failover.js";
import { gatewayIdentity } from "../mesh/gateway-identity.js";
import { currentTable, nodeSnapshot, observeLocally } from "../mesh/node-snapshot.js";
import { recordUsage, reportOutcome } from "../mesh/reporting.js";
import { serverTiming } from "../mesh/server-timing.js";
import { dispatchTimeouts } from "../mesh/timeouts.js";
import { meterStream, type MeterResult } from "../metering/response-meter.js";
import { usageOfJsonBody, type TokenCounts } from "../metering/usage.js";
import { parseRoutingControls, type Outcome } from "../routing/index.js";

/** The fields the gateway reads; every other field goes to the node as the client sent it. */
interface InferenceBody extends Record<string, unknown> {
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

/** A non-streamed answer this short took about as long as its first token would have: a latency sample. */
export const SHORT_ANSWER_TOKENS = 32;

function routeFailure(result: Extract<RouteResult, { ok: false }>): HttpError {
  switch (result.reason) {
    case "unknown_model":
      return new HttpError(404, `The model \`${result.model}\` does not exist or you do not have access to it.`, { param: "model", code: "model_not_found" });
    case "no_eligible":
      return new HttpError(404, `No node serving \`${result.model}\` passes the request's provider controls (only, ignore, max_price).`, {
        param: "provider",
        code: "no_eligible_node",
      });
    case "saturated":
      return new HttpError(503, "Every node serving this model is at capacity. Retry shortly.", { code: "no_capacity", headers: { "retry-after": "1" } });
    case "client_gone":
      return new HttpError(499, "The client closed the request.", { code: "client_closed_request" });
    case "failed":
      if (result.attempts.every((a) => a.outcome === "busy")) {
        return new HttpError(503, "Every node serving this model is busy. Retry shortly.", { code: "no_capacity", headers: { "retry-after": "1" } });
      }
      return new HttpError(502, `Every node tried (${result.attempts.length}) failed to answer.`, { type: "api_error", code: "upstream_error" });
  }
}

/** What a finished stream says about the node that sent it. */
function streamOutcome(m: MeterResult): Outcome["kind"] {
  if (m.failure === "upstream_stalled") return "stalled";
  if (m.failure === "upstream_error") return "error";
  if (m.sseError) return "sse_error";
  // A stream that ends without [DONE] was cut short by the node, even if the connection closed cleanly.
  if (m.failure === null && !m.completed) return "malformed";
  return "success";
}

export function inferenceRoute(kind: InferenceKind) {
  return async (request: GatewayRequest, env: Env, ctx: ExecutionContext): Promise<Response> => {
    const startedAt = Date.now();
    const apiKey = await authenticate(request, env, startedAt);
    const { value: body, bytes } = await readJson(request, kind.schema);
    const { controls, body: forwardable, stripped } = parseRoutingControls(body);

    const streamed = kind.canStream && body.stream === true;
    // Always ask a streaming node for usage, so every streamed token is metered; hide it again if not requested.
    const hideUsage = streamed && body.stream_options?.include_usage !== true;
    const bodyFor = (model: string): Uint8Array => {
      if (model === body.model && !stripped && !hideUsage) return bytes;
      const usageAsked = hideUsage ? { stream_options: { ...body.stream_options, include_usage: true } } : {};
      return utf8(JSON.stringify({ ...forwardable, model, ...usageAsked }));
    };

    const snapshot = await nodeSnapshot(env, ctx, startedAt);
    const { signer } = await gatewayIdentity(env);
    const timeouts = dispatchTimeouts(env);
    const report = (outcome: Outcome): void => {
      observeLocally(outcome);
      reportOutcome(outcome, env, ctx);
    };
    const routed = await routeRequest({
      table: () => currentTable() ?? snapshot.table,
      controls,
      random: Math.random,
      now: Date.now,
      onFailure: report,
      send: (node, model) =>
        sendToNode(node, {
          path: kind.path,
          body: bodyFor(model),
          requestId: request.id,
          signer,
          streamed,
          timeoutMs: streamed ? timeouts.firstTokenMs : timeouts.answerMs,
          now: Date.now,
          clientGone: request.signal,
        }),
    });
    if (!routed.ok) throw routeFailure(routed);

    const { node, model, answer, attempts } = routed;
    const response = answer.response;
    let settled = false;
    /** `outcome` null: the answer says nothing about the node (a client that left, a 4xx passed through). */
    const settle = (usage: TokenCounts | null, outcome: Omit<Outcome, "nodeId" | "model" | "at" | "inFlight"> | null): void => {
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
          model,
          ...(usage ?? NO_USAGE),
          latency_ms: finishedAt - startedAt,
          status: response.status,
          streamed,
        },
        env,
        ctx,
      );
      if (outcome) report({ nodeId: node.id, model, at: finishedAt, inFlight: null, ...outcome });
    };
    const headers = new Headers({ "x-meshgate-node": node.id, "x-meshgate-attempts": String(attempts.length) });
    for (const name of PASSED_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    headers.set("server-timing", serverTiming({ startedAt, now: Date.now(), attempts, nodeTtfbMs: answer.ttftMs }));

    if (answer.body === null) {
      const metered = meterStream(response.body, { hideUsage });
      request.signal.addEventListener("abort", metered.abandon, { once: true });
      ctx.waitUntil(
        metered.result.then((m) => {
          // A client that left ends the stream early: that says nothing about the node, good or bad.
          if (m.failure === "client_cancelled") return settle(m.usage, null);
          const kindOf = streamOutcome(m);
          const tokens = kindOf === "success" && m.completed ? (m.usage?.completion_tokens ?? null) : null;
          settle(m.usage, { kind: kindOf, ttftMs: answer.ttftMs, tokens, streamMs: tokens === null ? null : m.durationMs });
        }),
      );
      return new Response(metered.body, { status: response.status, headers });
    }

    // A whole answer was read before anything is sent: its usage is known, and one that broke off or was malformed
    // never reached the client (the next node was tried instead). Its time is the whole generation's: a latency
    // sample only for a short answer (embeddings, a few tokens), where that is close to a first token's. A 4xx
    // passed through says nothing about the node.
    const ok = response.status === 200;
    const usage = usageOfJsonBody(answer.body);
    const short = (usage?.completion_tokens ?? 0) <= SHORT_ANSWER_TOKENS;
    settle(usage, ok ? { kind: "success", ttftMs: short ? answer.ttftMs : null, tokens: null, streamMs: null } : null);
    return new Response(answer.body, { status: response.status, headers });
  };
}

// The request path of /v1/chat/completions, /v1/completions and /v1/embeddings, top to bottom:
// authenticate → validate (and take out the routing controls) → reserve the worst case against the key's budget →
// pick nodes → forward (with failover) → meter the body → check the node's receipt, record usage and outcomes off
// the response path → return the body as it streams.
import { bodyDigest, ChatCompletionRequestSchema, CompletionRequestSchema, EmbeddingRequestSchema, FREE, RECEIPT_HEADER, utf8, webCryptoVerify } from "@meshgate/schemas";
import type { z } from "zod";
import { billAnswer, isMeteringFailure } from "../billing/answer-billing.js";
import { checkReceipt } from "../billing/receipt-check.js";
import { meteringOff } from "../billing/metering-switch.js";
import { RequestBudget } from "../billing/request-budget.js";
import { feeBps, likelyPromptTokens } from "../billing/request-cost.js";
import { NO_LIMITS } from "../durable/api-keys.js";
import { keyAccount } from "../durable/names.js";
import { authenticate } from "../http/auth.js";
import { HttpError } from "../http/http-error.js";
import { readJson } from "../http/json-body.js";
import type { GatewayRequest } from "../http/request-id.js";
import { releaseNode, sendToNode } from "../mesh/dispatch.js";
import { adjustLoad } from "../mesh/local-load.js";
import { routeRequest, type RouteResult } from "../mesh/failover.js";
import { gatewayIdentity } from "../mesh/gateway-identity.js";
import { currentTable, nodePublicKey, nodeSnapshot, observeLocally } from "../mesh/node-snapshot.js";
import { recordUsage, reportOutcome } from "../mesh/reporting.js";
import { serverTiming } from "../mesh/server-timing.js";
import { dispatchTimeouts } from "../mesh/timeouts.js";
import { meterStream, type MeterResult } from "../metering/response-meter.js";
import { usageOfJsonBody, type TokenCounts } from "../metering/usage.js";
import { parseRoutingControls, type Outcome, type RouteNode } from "../routing/index.js";

/** The fields the gateway reads; every other field goes to the node as the client sent it. */
interface InferenceBody extends Record<string, unknown> {
  model: string;
  stream?: boolean | null | undefined;
  stream_options?: { include_usage?: boolean | undefined } | null | undefined;
}

export interface InferenceKind {
  path: string;
  schema: z.ZodType<InferenceBody>;
  /** Streams and generates completion tokens (embeddings do neither). */
  generates: boolean;
  /** The completion cap a budgeted request without one is sent with (see RequestBudget). */
  defaultCap: number;
}

export const CHAT: InferenceKind = { path: "/v1/chat/completions", schema: ChatCompletionRequestSchema, generates: true, defaultCap: 4_096 };
/** OpenAI's documented default for completions' max_tokens. */
export const COMPLETIONS: InferenceKind = { path: "/v1/completions", schema: CompletionRequestSchema, generates: true, defaultCap: 16 };
export const EMBEDDINGS: InferenceKind = { path: "/v1/embeddings", schema: EmbeddingRequestSchema, generates: false, defaultCap: 0 };

/** Response headers from a node that are safe and useful to pass to the client. */
const PASSED_HEADERS = ["content-type", "openai-processing-ms", "openai-version", "cache-control"];

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

/** What the gateway saw of an answer once its body ended: enough to bill it and to judge the node. */
interface AnswerSeen {
  usage: TokenCounts | null;
  complete: boolean;
  /** Completion tokens counted by the gateway, for the record when the node reported none. */
  completionEstimate: number;
  /** The answer's digest as the node's receipt must name it (computed off the response path). */
  digest: () => string;
  receipt: string | null;
  /** null: the answer says nothing about the node (a client that left, a 4xx passed through). */
  outcome: Omit<Outcome, "nodeId" | "model" | "at" | "inFlight"> | null;
}

function priceOf(node: RouteNode, model: string) {
  return node.models.get(model) ?? FREE;
}

export function inferenceRoute(kind: InferenceKind) {
  return async (request: GatewayRequest, env: Env, ctx: ExecutionContext): Promise<Response> => {
    const startedAt = Date.now();
    const apiKey = await authenticate(request, env, startedAt);
    const { value: body, bytes } = await readJson(request, kind.schema);
    const { controls, body: forwardable, stripped } = parseRoutingControls(body);

    const streamed = kind.generates && body.stream === true;
    // Always ask a streaming node for usage, so every streamed token is metered; hide it again if not requested.
    const hideUsage = streamed && body.stream_options?.include_usage !== true;
    const metered = !meteringOff(env);
    const fee = feeBps(env);
    const budget = new RequestBudget({
      requestId: request.id,
      limits: metered ? apiKey.limits : NO_LIMITS,
      account: () => keyAccount(env, apiKey.id),
      body,
      bodyBytes: bytes.length,
      generates: kind.generates,
      defaultCap: kind.defaultCap,
      feeBps: fee,
    });
    const bodyFor = (model: string): Uint8Array => {
      if (model === body.model && !stripped && !hideUsage && budget.addedCap === null) return bytes;
      const usageAsked = hideUsage ? { stream_options: { ...body.stream_options, include_usage: true } } : {};
      const capped = budget.addedCap === null ? {} : { max_tokens: budget.addedCap };
      return utf8(JSON.stringify({ ...forwardable, model, ...usageAsked, ...capped }));
    };

    const snapshot = await nodeSnapshot(env, ctx, startedAt);
    const { signer } = await gatewayIdentity(env);
    const timeouts = dispatchTimeouts(env);
    const report = (outcome: Outcome): void => {
      observeLocally(outcome);
      reportOutcome(outcome, env, ctx);
    };
    const giveBack = (): void => {
      const released = budget.release(Date.now());
      if (released) ctx.waitUntil(released.catch((err: unknown) => console.error("reservation release failed", String(err))));
    };
    let routed: RouteResult;
    try {
      routed = await routeRequest({
        table: () => currentTable() ?? snapshot.table,
        controls,
        random: Math.random,
        now: Date.now,
        onFailure: report,
        send: async (node, model) => {
          // The node's slot is held while the budget is reserved, so concurrent picks already see it taken.
          adjustLoad(node.id, 1);
          try {
            await budget.cover(priceOf(node, model), Date.now());
          } finally {
            adjustLoad(node.id, -1);
          }
          return sendToNode(node, {
            path: kind.path,
            body: bodyFor(model),
            requestId: request.id,
            signer,
            streamed,
            timeoutMs: streamed ? timeouts.firstTokenMs : timeouts.answerMs,
            now: Date.now,
            clientGone: request.signal,
          });
        },
      });
    } catch (err) {
      giveBack();
      throw err;
    }
    if (!routed.ok) {
      giveBack();
      const failure = routeFailure(routed);
      Object.assign(failure.headers, budget.headers);
      throw failure;
    }

    const { node, model, answer, attempts } = routed;
    const response = answer.response;
    /** Bills the answer exactly (or records why not), and tells the router how the node did. Off the response path. */
    const settle = async (seen: AnswerSeen, finishedAt: number): Promise<void> => {
      if (!metered) {
        if (seen.outcome) report({ nodeId: node.id, model, at: finishedAt, inFlight: null, ...seen.outcome });
        return;
      }
      const check =
        seen.usage && seen.complete
          ? await checkReceipt(
              seen.receipt,
              {
                requestId: request.id,
                nodeId: node.id,
                model,
                promptTokens: seen.usage.prompt_tokens,
                completionTokens: seen.usage.completion_tokens,
                digest: seen.digest(),
                advertisedPrice: priceOf(node, model),
                startedAt,
                finishedAt,
              },
              // The node's key as the registry knows it now (a snapshot refreshed since the request began is newer).
              (signature, data) => webCryptoVerify(nodePublicKey(node.id, snapshot), signature, data),
            )
          : null;
      const promptEstimate = likelyPromptTokens(bytes.length);
      const bill = billAnswer({
        usage: seen.usage,
        complete: seen.complete,
        estimate: { prompt_tokens: promptEstimate, completion_tokens: seen.completionEstimate, total_tokens: promptEstimate + seen.completionEstimate },
        receipt: check,
        worstCase: budget.worstCase,
        feeBps: fee,
      });
      recordUsage(
        {
          request_id: request.id,
          created: startedAt,
          key_id: apiKey.id,
          node_id: node.id,
          model,
          ...bill,
          latency_ms: finishedAt - startedAt,
          status: response.status,
          streamed,
          receipt: bill.billable ? seen.receipt : null,
        },
        env,
        ctx,
      );
      if (!seen.outcome) return;
      // A complete answer the node did not account for exactly is a failure of the node's, though the client was served.
      const outcome = seen.outcome.kind === "success" && isMeteringFailure(bill.receipt_status) ? { ...seen.outcome, kind: "unmetered" as const } : seen.outcome;
      report({ nodeId: node.id, model, at: finishedAt, inFlight: null, ...outcome });
    };
    let settled = false;
    const finish = (seen: AnswerSeen): void => {
      if (settled) return;
      settled = true;
      releaseNode(node.id);
      ctx.waitUntil(settle(seen, Date.now()).catch((err: unknown) => console.error("settling usage failed", String(err))));
    };
    const headers = new Headers({ "x-meshgate-node": node.id, "x-meshgate-attempts": String(attempts.length), ...budget.headers });
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
          const seen = { usage: m.usage, complete: m.completed, completionEstimate: m.contentEvents, digest: () => m.digest, receipt: m.receipt };
          // A client that left is not the node's doing: the rest of the answer was read without it (and is billed if
          // it completed), but a node cut off because it did not finish in time after that is not judged.
          if (m.failure === "client_cancelled") return finish({ ...seen, outcome: null });
          const kindOf = streamOutcome(m);
          const tokens = kindOf === "success" && m.completed ? (m.usage?.completion_tokens ?? null) : null;
          finish({ ...seen, outcome: { kind: kindOf, ttftMs: answer.ttftMs, tokens, streamMs: tokens === null ? null : m.durationMs } });
        }),
      );
      return new Response(metered.body, { status: response.status, headers });
    }

    // A whole answer was read before anything is sent: its usage is known, and one that broke off or was malformed
    // never reached the client (the next node was tried instead). Its time is the whole generation's: a latency
    // sample only for a short answer (embeddings, a few tokens), where that is close to a first token's. A 4xx
    // passed through says nothing about the node, and is not billed.
    const ok = response.status === 200;
    const whole = answer.body;
    const usage = usageOfJsonBody(whole);
    const short = (usage?.completion_tokens ?? 0) <= SHORT_ANSWER_TOKENS;
    finish({
      usage,
      complete: ok,
      completionEstimate: Math.ceil(whole.byteLength / 4),
      digest: () => bodyDigest(new Uint8Array(whole)),
      receipt: response.headers.get(RECEIPT_HEADER),
      outcome: ok ? { kind: "success", ttftMs: short ? answer.ttftMs : null, tokens: null, streamMs: null } : null,
    });
    return new Response(whole, { status: response.status, headers });
  };
}

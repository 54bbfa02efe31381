// The admit-and-dispatch step of the inference path: pick a node, hold the request's worst case at that node's terms
// against the key's budget (a node too dear for what is left is passed over for one that fits), send it the signed
// request, fail over; and the client's error when no node answered.
import type { Signer } from "@meshgate/schemas";
import type { NodeTerms, RequestBudget } from "../billing/request-budget.js";
import { promptBound } from "../billing/token-bounds.js";
import { HttpError } from "../http/http-error.js";
import { orThrow, refusalHttpError } from "../http/refusal.js";
import { acquireSlot, type HeldSlot } from "../mesh/admission.js";
import { type AttemptResult, RESPONSES_PATH, sendToNode } from "../mesh/dispatch.js";
import { type PassedOver, type Picked, routeRequest, type RouteResult } from "../mesh/failover.js";
import { nodeFetch } from "../mesh/node-transport.js";
import { dispatchTimeouts } from "../mesh/timeouts.js";
import { UPSTREAM_STALL_MS } from "../metering/response-meter.js";
import { firstTokenDeadlineMs, type Outcome, type RouteNode } from "../routing/index.js";
import { type InferenceCall, passesThrough } from "./inference-call.js";

/** A node's slot for one attempt, and the node's current public key (what its receipt is verified with). */
export interface Grant {
  slot: HeldSlot;
  publicKey: string;
}

/**
 * A node's answer, the slot this request holds at it until the answer's body ends (then release it), and the time
 * spent taking slots from admission cells (ms, every attempt's).
 */
export type Routed = Extract<RouteResult<Grant>, { ok: true }> & { admitMs: number };

export interface DispatchInput {
  call: InferenceCall;
  budget: RequestBudget;
  requestId: string;
  /** Aborts when the client disconnects. */
  clientGone: AbortSignal;
  signer: Signer;
  /** The API key's id: a timeout ejects a node only when several clients have seen one. */
  client: string;
  env: Env;
  ctx: ExecutionContext;
  /** A timeout judged once the request ended, to be learned from. */
  report(outcome: Outcome): void;
}

/** A node's price and context length for the model: what the request's worst case at that node depends on. */
export function termsOf(node: RouteNode, model: string): NodeTerms {
  return { price: node.models.get(model) ?? null, contextLength: node.contextLengths.get(model) ?? null };
}

function routeFailure(result: Extract<RouteResult<Grant>, { ok: false }>, budget: RequestBudget): HttpError {
  switch (result.reason) {
    case "unknown_model":
      return new HttpError(404, `The model \`${result.model}\` does not exist or you do not have access to it.`, {
        param: "model",
        code: "model_not_found",
      });
    case "no_eligible":
      return new HttpError(
        404,
        `No node serving \`${result.model}\` passes the request's provider controls (only, ignore, max_price).`,
        {
          param: "provider",
          code: "no_eligible_node",
        },
      );
    case "saturated":
      return new HttpError(503, "Every node serving this model is at capacity. Retry shortly.", {
        code: "no_capacity",
        headers: { "retry-after": "1" },
      });
    case "unaffordable": {
      const refused = budget.refused();
      if (refused) return refusalHttpError(refused);
      return new HttpError(429, "This key's budget cannot cover this request at any node's price.", {
        type: "insufficient_quota",
        code: "insufficient_quota",
      });
    }
    case "client_gone":
      return new HttpError(499, "The client closed the request.", { code: "client_closed_request" });
    case "too_large":
      return new HttpError(
        400,
        "The whole answer to this request is too large to return at once. Ask for it with `stream: true`.",
        {
          param: "stream",
          code: "answer_too_large",
        },
      );
    case "failed":
      if (result.attempts.every((a) => a.outcome === "busy")) {
        return new HttpError(503, "Every node serving this model is busy. Retry shortly.", {
          code: "no_capacity",
          headers: { "retry-after": "1" },
        });
      }
      return new HttpError(502, `Every node tried (${result.attempts.length}) failed to answer.`, {
        type: "api_error",
        code: "upstream_error",
      });
  }
}

/** A slot at a node for the next attempt, from the admission cells (mesh/admission.ts). */
async function pickFor(input: DispatchInput, model: string, exclude: ReadonlySet<string>, attempt: number) {
  const picked = await acquireSlot(input.env, input.ctx, {
    model,
    controls: input.call.controls,
    exclude,
    attempt,
    bound: input.budget.bound(),
  });
  if (picked.kind !== "node") return picked;
  return {
    kind: "node",
    node: picked.node,
    grant: { slot: picked.slot, publicKey: picked.publicKey },
  } satisfies Picked<Grant>;
}

/** Routes the call until a node answers; throws the client's error otherwise (the caller releases the budget). */
export async function dispatch(input: DispatchInput): Promise<Routed> {
  const { call, budget } = input;
  const timeouts = dispatchTimeouts(input.env);
  const promptTokens = promptBound(call.bytes.length, call.shape);
  // A long prompt takes long to prefill on any node: its first token is given longer.
  const firstTokenMs = firstTokenDeadlineMs(timeouts.firstTokenMs, promptTokens, timeouts.answerMs);
  let admitMs = 0;
  const routed = await routeRequest<Grant>({
    pick: async (model, exclude, attempt) => {
      const startedAt = performance.now();
      try {
        return await pickFor(input, model, exclude, attempt);
      } finally {
        admitMs += performance.now() - startedAt;
      }
    },
    controls: call.controls,
    now: Date.now,
    onFailure: input.report,
    release: (grant, outcome) => grant.slot.release(outcome),
    client: input.client,
    promptTokens,
    send: (node, model) => attempt(input, node, model, firstTokenMs),
  });
  if (routed.ok) return { ...routed, admitMs };
  const failure = routeFailure(routed, budget);
  Object.assign(failure.headers, budget.headers);
  throw failure;
}

/** One node asked: its terms held against the budget (passed over if they do not fit), then the signed request. */
async function attempt(
  input: DispatchInput,
  node: RouteNode,
  model: string,
  firstTokenMs: number,
): Promise<AttemptResult | PassedOver> {
  const { call, budget } = input;
  const covered = await budget.cover(termsOf(node, model), Date.now());
  // A rate limit or an oversized cap is the client's error whichever node is tried.
  if (orThrow(covered) === "unaffordable") return { kind: "passed_over" };
  // A Responses request goes as it came to a node that serves the API itself, translated to chat to any other.
  const native = passesThrough(call, node, model);
  return sendToNode(node, {
    path: native ? RESPONSES_PATH : call.kind.path,
    body: native && call.responsesBodyFor ? call.responsesBodyFor(model) : call.bodyFor(model),
    requestId: input.requestId,
    signer: input.signer,
    mode: call.mode,
    choices: call.shape.choices,
    // A whole answer (embeddings) comes when its input is read, as a first token does: a hung node costs as much.
    timeoutMs: firstTokenMs,
    stallMs: UPSTREAM_STALL_MS,
    now: Date.now,
    clientGone: input.clientGone,
    transport: nodeFetch(input.env),
  });
}

// The request path of /v1/chat/completions, /v1/completions, /v1/embeddings and /v1/responses, top to bottom:
// authenticate → validate (taking out the routing controls) → admit (the worst case held against the key's budget)
// → dispatch (a node picked, with failover) → respond (the body metered as it streams) → record off the response path
// (the node's receipt checked, usage billed within what the gateway saw, the outcome reported).
import type { PriceCeilings } from "@meshgate/schemas";
import { meteringOff } from "../billing/metering-switch.js";
import type { KeyLimits } from "../billing/records.js";
import { RequestBudget } from "../billing/request-budget.js";
import { feeBps as feeBpsOf } from "../billing/request-cost.js";
import { hasAnyLimit } from "../billing/reservation.js";
import { NO_LIMITS } from "../durable/api-keys/api-keys.js";
import { type ApiKeyIdentity, authenticate } from "../http/auth.js";
import { priceCeilings } from "../http/price-ceilings.js";
import { orThrow } from "../http/refusal.js";
import type { GatewayRequest } from "../http/request-id.js";
import { gatewayIdentity } from "../mesh/gateway-identity.js";
import { purseFor } from "../mesh/key-purses.js";
import { reportOutcome } from "../mesh/reporting.js";
import type { Outcome } from "../routing/index.js";
import { answerHeaders, respond } from "./inference-answer.js";
import { type InferenceCall, type InferenceKind, readCall, readResponsesCall } from "./inference-call.js";
import { type DispatchInput, dispatch, type Routed } from "./inference-dispatch.js";
import type { Served } from "./inference-record.js";

export { CHAT, COMPLETIONS, EMBEDDINGS, type InferenceKind } from "./inference-call.js";

/** The admit step's terms: whether usage is metered, the key's limits, the fee and ceilings, the budget held. */
interface Admission {
  metered: boolean;
  limits: KeyLimits;
  feeBps: number;
  ceilings: PriceCeilings;
  budget: RequestBudget;
}

function admit(
  env: Env,
  ctx: ExecutionContext,
  apiKey: ApiKeyIdentity,
  call: InferenceCall,
  requestId: string,
): Admission {
  const metered = !meteringOff(env);
  const feeBps = orThrow(feeBpsOf(env));
  const limits = metered ? apiKey.limits : NO_LIMITS;
  // Taken once, so the request settles in the purse it was admitted from even if the registry replaces it.
  const purse = hasAnyLimit(limits) ? purseFor(env, apiKey.id, limits) : null;
  const budget = new RequestBudget({
    requestId,
    limits,
    account: () => {
      if (!purse) throw new Error("a key without limits has no account to reserve at");
      return purse;
    },
    defer: (work) => ctx.waitUntil(work),
    shape: call.shape,
    bodyBytes: call.bytes.length,
    likelyCap: call.kind.likelyCap,
    feeBps,
  });
  return { metered, limits, feeBps, ceilings: priceCeilings(env), budget };
}

/** Dispatch; when no node answers, the budget held for the request is released before the client's error. */
async function dispatchOrRelease(input: DispatchInput, ctx: ExecutionContext): Promise<Routed> {
  try {
    return await dispatch(input);
  } catch (err) {
    const released = input.budget.release(Date.now());
    if (released !== null)
      ctx.waitUntil(released.catch((e: unknown) => console.error("reservation release failed", String(e))));
    throw err;
  }
}

/** POST /v1/chat/completions, /v1/completions, /v1/embeddings. */
export function inferenceRoute(kind: InferenceKind) {
  return servedRoute((request) => readCall(request, kind));
}

/** POST /v1/responses: translated to a chat request for the node, its answer translated back (responses-answer.ts). */
export const responsesRoute = servedRoute(readResponsesCall);

function servedRoute(read: (request: Request) => Promise<InferenceCall>) {
  return async (request: GatewayRequest, env: Env, ctx: ExecutionContext): Promise<Response> => {
    const startedAt = Date.now();
    const apiKey = await authenticate(request, env, startedAt, ctx);
    const call = await read(request);
    const admission = admit(env, ctx, apiKey, call, request.id);
    const { signer } = await gatewayIdentity(env);
    const routed = await dispatchOrRelease(
      {
        call,
        budget: admission.budget,
        requestId: request.id,
        clientGone: request.signal,
        signer,
        client: apiKey.id,
        env,
        ctx,
        report: (outcome: Outcome) => reportOutcome(outcome, env, ctx),
      },
      ctx,
    );
    const served: Served = {
      call,
      budget: admission.budget,
      keyId: apiKey.id,
      limited: hasAnyLimit(admission.limits),
      requestId: request.id,
      startedAt,
      node: routed.node,
      model: routed.model,
      status: routed.answer.response.status,
      slot: routed.grant.slot,
      publicKey: routed.grant.publicKey,
      metered: admission.metered,
      feeBps: admission.feeBps,
      ceilings: admission.ceilings,
      env,
      ctx,
    };
    return respond(served, routed, answerHeaders(routed, admission.budget, startedAt), request.signal, signer);
  };
}

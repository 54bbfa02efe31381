// Tries nodes for one request until one answers: each attempt picks afresh (so it sees what the failed ones taught),
// up to MAX_ATTEMPTS_PER_MODEL nodes for each model the client allows, in the client's model order. A node passed
// over before it was asked (too dear for the budget left) is no attempt: the next pick leaves it and its like out.
// A first-token timeout is judged only once the request ends (timeout-evidence.ts), and a second one ends it.
import {
  chargedTimeouts,
  chosenByClient,
  MAX_TIMEOUTS_PER_REQUEST,
  REFUSAL_RANK,
  type HeldTimeout,
  type Outcome,
  type RouteNode,
  type RoutingControls,
} from "../routing/index.js";
import type { AttemptResult } from "./dispatch.js";

export const MAX_ATTEMPTS_PER_MODEL = 3;
/** However many fallback models a client lists, a request never tries more nodes than this. */
export const MAX_ATTEMPTS = 6;
/** Nodes passed over without being asked, however many are too dear: each costs a pick, not a round trip to a node. */
export const MAX_PASSED_OVER = 32;

export interface AttemptRecord {
  nodeId: string;
  model: string;
  status: number | null;
  outcome: Outcome["kind"];
  /** Time spent on this node, ms. */
  durationMs: number;
}

export type Answer = Extract<AttemptResult, { kind: "answer" }>;

export type RouteResult<G> =
  | { ok: true; node: RouteNode; model: string; answer: Answer; attempts: AttemptRecord[]; grant: G }
  | {
      ok: false;
      reason: "unknown_model" | "no_eligible" | "saturated" | "failed" | "client_gone" | "unaffordable" | "too_large";
      model: string;
      attempts: AttemptRecord[];
    };

/**
 * What `send` answers for a node it did not ask after all (the request's budget can't cover that node's worst case).
 */
export interface PassedOver {
  kind: "passed_over";
}

/** A node for the next attempt with what was granted for it (its slot), or why there is none. */
export type Picked<G> =
  | { kind: "node"; node: RouteNode; grant: G }
  | { kind: "unknown_model" | "no_eligible" | "saturated" };

/** `G`: what a pick grants (a node's slot): kept by the answering attempt, given back by `release` for every other. */
export interface RouteRequest<G> {
  /** A node for the next attempt at the model, not one already tried; `attempt` counts this model's attempts. */
  pick(model: string, exclude: ReadonlySet<string>, attempt: number): Promise<Picked<G>>;
  controls: RoutingControls;
  now: () => number;
  send(node: RouteNode, model: string, grant: G): Promise<AttemptResult | PassedOver>;
  /** Gives back what a pick granted for an attempt that did not answer, with the outcome that counts now, if any. */
  release(grant: G, outcome: Outcome | null): void;
  /** A timeout that counts against its node, known only once the request has ended (timeout-evidence.ts). */
  onFailure(outcome: Outcome): void;
  /** Who asked (the API key's id): timeouts eject only when several clients have seen them. */
  client: string;
  /** The request's prompt bound (prefill.ts). */
  promptTokens: number;
}

function failedOutcome<G>(
  req: RouteRequest<G>,
  node: RouteNode,
  model: string,
  result: Extract<AttemptResult, { kind: "failed" }>,
): Outcome {
  const { promptTokens, client } = req;
  return {
    nodeId: node.id,
    model,
    kind: result.outcome,
    at: req.now(),
    ttftMs: result.ttftMs,
    tokens: null,
    streamMs: null,
    // The decider that granted the slot knows the node's other requests exactly, and fills it in.
    inFlight: null,
    promptTokens,
    client,
  };
}

export async function routeRequest<G>(req: RouteRequest<G>): Promise<RouteResult<G>> {
  const held: HeldTimeout[] = [];
  const result = await tryNodes(req, held);
  for (const outcome of chargedTimeouts(held, result.ok ? result.model : null)) req.onFailure(outcome);
  return result;
}

type Refusal = { reason: "unknown_model" | "no_eligible" | "saturated"; model: string };

/** One attempt's result as the loop goes on with it: answered, end the request, or try another node. */
type Step<G> = { done: RouteResult<G> } | { next: "attempted" | "not_asked" | "stop" };

async function tryNodes<G>(req: RouteRequest<G>, held: HeldTimeout[]): Promise<RouteResult<G>> {
  const attempts: AttemptRecord[] = [];
  const tried = new Set<string>();
  const skipped = { passedOver: 0 };
  let refusal: Refusal | null = null;
  models: for (const model of req.controls.models) {
    for (
      let attempt = 0;
      attempt < MAX_ATTEMPTS_PER_MODEL && attempts.length < MAX_ATTEMPTS && skipped.passedOver <= MAX_PASSED_OVER;
    ) {
      const picked = await req.pick(model, tried, attempt);
      if (picked.kind !== "node") {
        if (!refusal || REFUSAL_RANK[picked.kind] > REFUSAL_RANK[refusal.reason])
          refusal = { reason: picked.kind, model };
        break;
      }
      tried.add(picked.node.id);
      const step = await tryNode(req, picked.node, model, picked.grant, { attempts, held, skipped });
      if ("done" in step) return step.done;
      if (step.next === "attempted") attempt++;
      if (step.next === "stop") break models;
    }
  }
  if (attempts.length > 0)
    return { ok: false, reason: "failed", model: attempts[attempts.length - 1]?.model ?? "", attempts };
  // Nothing was asked, and some node was passed over as too dear: the budget, not the mesh, is what stopped it.
  if (skipped.passedOver > 0)
    return { ok: false, reason: "unaffordable", model: req.controls.models[0] ?? "", attempts };
  return {
    ok: false,
    reason: refusal?.reason ?? "unknown_model",
    model: refusal?.model ?? req.controls.models[0] ?? "",
    attempts,
  };
}

/** Sends one attempt and gives back its grant unless it answered; says how the loop goes on. */
async function tryNode<G>(
  req: RouteRequest<G>,
  node: RouteNode,
  model: string,
  grant: G,
  run: { attempts: AttemptRecord[]; held: HeldTimeout[]; skipped: { passedOver: number } },
): Promise<Step<G>> {
  const startedAt = req.now();
  let result: AttemptResult | PassedOver;
  try {
    result = await req.send(node, model, grant);
  } catch (err) {
    req.release(grant, null);
    throw err;
  }
  if (result.kind === "answer") {
    run.attempts.push(record(node, model, result.response.status, result.outcome, req.now() - startedAt));
    return { done: { ok: true, node, model, answer: result, attempts: run.attempts, grant } };
  }
  if (result.kind !== "failed") {
    req.release(grant, null);
    if (result.kind === "passed_over") run.skipped.passedOver++;
    // Its session says the node is not there (gone, or not ready): another is tried, and it is charged nothing.
    if (result.kind === "passed_over" || result.kind === "absent") return { next: "not_asked" };
    if (result.kind === "client_gone")
      return { done: { ok: false, reason: "client_gone", model, attempts: run.attempts } };
    // The request's own shape made an answer too large to return whole: every node would do the same.
    return { done: { ok: false, reason: "too_large", model, attempts: run.attempts } };
  }
  run.attempts.push(record(node, model, result.status, result.outcome, req.now() - startedAt));
  const outcome = failedOutcome(req, node, model, result);
  if (outcome.kind !== "timeout") {
    req.release(grant, outcome);
    return { next: "attempted" };
  }
  req.release(grant, null);
  const timeouts = run.held.push({ outcome, chosenByClient: chosenByClient(req.controls, node.id) });
  return { next: timeouts >= MAX_TIMEOUTS_PER_REQUEST ? "stop" : "attempted" };
}

function record(node: RouteNode, model: string, status: number | null, outcome: Outcome["kind"], durationMs: number) {
  return { nodeId: node.id, model, status, outcome, durationMs };
}

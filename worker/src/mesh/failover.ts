// Tries nodes for one request until one answers: each attempt picks afresh (so it sees what the failed ones taught),
// up to MAX_ATTEMPTS_PER_MODEL nodes for each model the client allows, in the client's model order. A node passed
// over before it was asked (too dear for the budget left) is no attempt: the next pick leaves it and its like out.
// A first-token timeout is judged only once the request ends (timeout-evidence.ts), and a second one ends it.
import {
  chargedTimeouts,
  chosenByClient,
  MAX_TIMEOUTS_PER_REQUEST,
  pickNode,
  type HeldTimeout,
  type Outcome,
  type RouteNode,
  type RoutingControls,
  type RoutingTable,
} from "../routing/index.js";
import type { AttemptResult } from "./dispatch.js";
import { nodeLoad } from "./local-load.js";

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

export type RouteResult =
  | { ok: true; node: RouteNode; model: string; answer: Answer; attempts: AttemptRecord[] }
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

export interface RouteRequest {
  /** The table to pick from now: a snapshot refresh may replace it between attempts. */
  table: () => RoutingTable;
  controls: RoutingControls;
  random: () => number;
  now: () => number;
  send(node: RouteNode, model: string): Promise<AttemptResult | PassedOver>;
  /**
   * Called for each failed attempt as it fails, and for a timeout once the request has ended, if it counts against its
   * node; the answering attempt's outcome is known only once its body ends.
   */
  onFailure(outcome: Outcome): void;
  /** Who asked (the API key's id): timeouts eject only when several clients have seen them. */
  client: string;
  /** The request's prompt bound (prefill.ts). */
  promptTokens: number;
  /** Nodes that may be picked at all (e.g. one whose worst case fits the budget left); every node when absent. */
  allow?: (node: RouteNode, model: string) => boolean;
}

function failedOutcome(
  req: RouteRequest,
  node: RouteNode,
  model: string,
  result: Extract<AttemptResult, { kind: "failed" }>,
  inFlight: number,
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
    inFlight,
    promptTokens,
    client,
  };
}

/**
 * When no model could be tried, the most hopeful reason is reported: "busy, retry" beats "filtered out" beats
 * "unknown".
 */
const REFUSAL_RANK = { unknown_model: 0, no_eligible: 1, saturated: 2 } as const;

export async function routeRequest(req: RouteRequest): Promise<RouteResult> {
  const held: HeldTimeout[] = [];
  const result = await tryNodes(req, held);
  for (const outcome of chargedTimeouts(held, result.ok ? result.model : null)) req.onFailure(outcome);
  return result;
}

async function tryNodes(req: RouteRequest, held: HeldTimeout[]): Promise<RouteResult> {
  const attempts: AttemptRecord[] = [];
  const tried = new Set<string>();
  let passedOver = 0;
  let refusal: { reason: "unknown_model" | "no_eligible" | "saturated"; model: string } | null = null;
  models: for (const model of req.controls.models) {
    const allow = req.allow;
    const allowed = allow ? { allow: (node: RouteNode) => allow(node, model) } : {};
    for (
      let attempt = 0;
      attempt < MAX_ATTEMPTS_PER_MODEL && attempts.length < MAX_ATTEMPTS && passedOver <= MAX_PASSED_OVER;
    ) {
      const now = req.now();
      const picked = pickNode(req.table(), {
        model,
        controls: req.controls,
        now,
        random: req.random,
        load: nodeLoad,
        exclude: tried,
        attempt,
        ...allowed,
      });
      if (picked.kind !== "node") {
        if (!refusal || REFUSAL_RANK[picked.kind] > REFUSAL_RANK[refusal.reason])
          refusal = { reason: picked.kind, model };
        break;
      }
      const { node } = picked;
      tried.add(node.id);
      const othersInFlight = nodeLoad(node);
      const result = await req.send(node, model);
      if (result.kind === "passed_over") {
        passedOver++;
        continue;
      }
      // Its session says the node is not there (gone, or not ready): another is tried, and it is charged nothing.
      if (result.kind === "absent") continue;
      attempt++;
      const durationMs = req.now() - now;
      if (result.kind === "client_gone") return { ok: false, reason: "client_gone", model, attempts };
      // The request's own shape made an answer too large to return whole: every node would do the same.
      if (result.kind === "too_large") return { ok: false, reason: "too_large", model, attempts };
      attempts.push({
        nodeId: node.id,
        model,
        status: result.kind === "answer" ? result.response.status : result.status,
        outcome: result.outcome,
        durationMs,
      });
      if (result.kind === "answer") return { ok: true, node, model, answer: result, attempts };
      const outcome = failedOutcome(req, node, model, result, othersInFlight);
      if (outcome.kind !== "timeout") req.onFailure(outcome);
      else if (
        held.push({ outcome, chosenByClient: chosenByClient(req.controls, node.id) }) >= MAX_TIMEOUTS_PER_REQUEST
      )
        break models;
    }
  }
  if (attempts.length > 0)
    return { ok: false, reason: "failed", model: attempts[attempts.length - 1]?.model ?? "", attempts };
  // Nothing was asked, and some node was passed over as too dear: the budget, not the mesh, is what stopped it.
  if (passedOver > 0) return { ok: false, reason: "unaffordable", model: req.controls.models[0] ?? "", attempts };
  return {
    ok: false,
    reason: refusal?.reason ?? "unknown_model",
    model: refusal?.model ?? req.controls.models[0] ?? "",
    attempts,
  };
}

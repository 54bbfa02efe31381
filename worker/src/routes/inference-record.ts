// The meter step's end, off the response path: once an answer's body has ended, check the node's receipt against
// what the gateway saw, bill within the bounds of what it saw (or record why not), and tell the router how the node
// did.
import { ceilingFor, decodeReceipt, webCryptoVerify, type PriceCeilings } from "@meshgate/schemas";
import { billAnswer, type Ending } from "../billing/answer-billing.js";
import { checkReceipt, type ReceiptCheck } from "../billing/receipt-check.js";
import type { UsageEntry } from "../billing/records.js";
import type { RequestBudget } from "../billing/request-budget.js";
import { likelyPromptTokens } from "../billing/request-cost.js";
import { completionBound, promptBound, type AnswerOutput } from "../billing/token-bounds.js";
import type { HeldSlot } from "../mesh/admission.js";
import type { TokenCounts } from "../metering/usage.js";
import type { Outcome, RouteNode } from "../routing/index.js";
import type { InferenceCall } from "./inference-call.js";
import { termsOf } from "./inference-dispatch.js";

/** What the gateway saw of an answer once its body ended: enough to bill it and to judge the node. */
export interface AnswerSeen {
  ending: Ending;
  /** The usage the node reported in a 200 answer; null when it reported none (or did not answer 200). */
  usage: TokenCounts | null;
  /** What the answer carried to the client, and after it left. */
  output: AnswerOutput;
  /** Completion tokens counted by the gateway, for the record when the node reported none. */
  completionEstimate: number;
  /** The answer's digest as the node's receipt must name it (computed off the response path). */
  digest: () => string | Promise<string>;
  receipt: string | null;
  /** null: the answer says nothing about the node (a client that left, a 4xx passed through). */
  outcome: Omit<Outcome, "nodeId" | "model" | "at" | "inFlight"> | null;
}

/** The answered request, as recording it needs it. */
export interface Served {
  call: InferenceCall;
  budget: RequestBudget;
  keyId: string;
  /** The key has a budget or rate limits: its reservation ends as soon as the answer does. */
  limited: boolean;
  requestId: string;
  startedAt: number;
  node: RouteNode;
  model: string;
  status: number;
  /** The node's slot, given back with the answer's outcome once it is judged. */
  slot: HeldSlot;
  /** The node's public key when its slot was granted: what its receipt is verified with. */
  publicKey: string;
  /** False only for the benchmark's baseline (BENCH_UNMETERED). */
  metered: boolean;
  feeBps: number;
  ceilings: PriceCeilings;
  env: Env;
  ctx: ExecutionContext;
}

/** A receipt is worth checking for a complete answer with usage, or for one cut short whose node sent one. */
async function checkSeenReceipt(s: Served, seen: AnswerSeen, finishedAt: number): Promise<ReceiptCheck | null> {
  const complete = seen.ending === "complete" && seen.usage !== null;
  if (!complete && !(seen.ending === "cut_for_client" && seen.receipt !== null)) return null;
  const advertised = termsOf(s.node, s.model).price ?? { prompt: 0, completion: 0 };
  const ceiling = ceilingFor(s.ceilings, s.model);
  const usage =
    complete && seen.usage
      ? { promptTokens: seen.usage.prompt_tokens, completionTokens: seen.usage.completion_tokens }
      : null;
  return checkReceipt(
    seen.receipt,
    {
      requestId: s.requestId,
      nodeId: s.node.id,
      model: s.model,
      usage,
      digest: await seen.digest(),
      maxPrice: {
        prompt: Math.min(advertised.prompt, ceiling.prompt),
        completion: Math.min(advertised.completion, ceiling.completion),
      },
      startedAt: s.startedAt,
      finishedAt,
    },
    (signature, data) => webCryptoVerify(s.publicKey, signature, data),
  );
}

/** The counts a node claims: its usage for a complete answer, its receipt's for one cut short for its client. */
function claimOf(seen: AnswerSeen): TokenCounts | null {
  if (seen.ending === "complete") return seen.usage;
  const receipt =
    seen.ending === "cut_for_client" && seen.receipt !== null ? decodeReceipt(seen.receipt)?.receipt : undefined;
  return receipt
    ? {
        prompt_tokens: receipt.prompt_tokens,
        completion_tokens: receipt.completion_tokens,
        total_tokens: receipt.prompt_tokens + receipt.completion_tokens,
      }
    : null;
}

/**
 * How the node did, for the router. An answer the node did not account for exactly (it over-claimed, or reported no
 * usage) is a failure of the node's even when the client was served, or had left.
 */
function judge(s: Served, seen: AnswerSeen, nodeAtFault: boolean, at: number): Outcome | null {
  const seenOutcome =
    seen.outcome ?? (nodeAtFault ? { kind: "unmetered" as const, ttftMs: null, tokens: null, streamMs: null } : null);
  if (!seenOutcome) return null;
  const kind = nodeAtFault && seenOutcome.kind === "success" ? "unmetered" : seenOutcome.kind;
  // The prompt's size, so a long prompt's slow first token is not taken for a slow node (prefill.ts).
  const promptTokens = promptBound(s.call.bytes.length, s.call.shape);
  return { nodeId: s.node.id, model: s.model, at, inFlight: null, promptTokens, ...seenOutcome, kind };
}

/** How the node did, and the answer's usage row (null for an unmetered answer). */
interface Judged {
  outcome: Outcome | null;
  row: UsageEntry | null;
}

/**
 * Bills the answer, then gives the node's slot back with how the node did and the usage row, which the node's cell
 * writes ahead before the release returns (without either, should billing fail). A key with limits has its row sent
 * on to its account at once, so its reservation ends with the answer.
 */
export async function recordAnswer(s: Served, seen: AnswerSeen, finishedAt: number): Promise<void> {
  let judged: Judged = { outcome: null, row: null };
  try {
    judged = await billAndJudge(s, seen, finishedAt);
  } finally {
    // Only an exact reservation waits at the account for the row; a slice's hold is let go of here, below.
    await s.slot.release(judged.outcome, judged.row, s.limited && s.budget.sliceId === null);
  }
  // The row is durable now: the budget may let go of this request's hold.
  const { row } = judged;
  if (row) s.budget.settle(row.billable ? row.cost : 0, row.total_tokens, Date.now());
}

async function billAndJudge(s: Served, seen: AnswerSeen, finishedAt: number): Promise<Judged> {
  if (!s.metered) return { outcome: judge(s, seen, false, finishedAt), row: null };
  const { call } = s;
  const contextLength = termsOf(s.node, s.model).contextLength;
  const promptTokens = promptBound(call.bytes.length, call.shape);
  const bounds = { promptTokens, completionTokens: completionBound(seen.output, call.shape, contextLength) };
  // Counting all the node sent after its client left, and only the context it advertised (a silent one may be long):
  // a claim above this is the node's own fault.
  const blameAbove = {
    promptTokens,
    completionTokens: completionBound(seen.output, call.shape, contextLength ?? Infinity, Infinity),
  };
  const receipt = await checkSeenReceipt(s, seen, finishedAt);
  // A refusal (a passed-through 4xx) processed nothing as far as anyone can tell: recorded as no tokens at all.
  const promptEstimate = s.status === 200 ? likelyPromptTokens(call.bytes.length) : 0;
  const { bill, nodeAtFault } = billAnswer({
    claim: claimOf(seen),
    ending: seen.ending,
    estimate: {
      prompt_tokens: promptEstimate,
      completion_tokens: seen.completionEstimate,
      total_tokens: promptEstimate + seen.completionEstimate,
    },
    receipt,
    bounds,
    blameAbove,
    mediaInPrompt: call.shape.mediaParts > 0,
    reserved: s.budget.reserved,
    feeBps: s.feeBps,
  });
  const row: UsageEntry = {
    request_id: s.requestId,
    created: s.startedAt,
    key_id: s.keyId,
    node_id: s.node.id,
    model: s.model,
    ...bill,
    latency_ms: finishedAt - s.startedAt,
    status: s.status,
    streamed: call.streamed,
    receipt: bill.billable ? seen.receipt : null,
    slice_id: s.budget.sliceId,
  };
  return { outcome: judge(s, seen, nodeAtFault, finishedAt), row };
}

// What one answered request is billed: exactly the tokens the node claimed and signed for, at the price on its
// receipt, plus the gateway's fee, provided the claim lies within what the gateway itself saw (token-bounds.ts); or
// nothing, with the reason recorded. Never an estimate, never more than the bounds: the counts recorded are clamped
// to them too, so no claim reaches a sum, a rate limit or a report unbounded.
import { clientCost, nodeAmount } from "@meshgate/schemas";
import type { TokenCounts } from "../metering/usage.js";
import type { ReceiptCheck } from "./receipt-check.js";
import type { ReceiptStatus, UsageEntry } from "./records.js";
import type { TokenLimits } from "./token-bounds.js";

/**
 * How the answer ended: whole (a 200 body, or a stream through `[DONE]`); cut short because its client left (the node
 * was stopped and may have sent a receipt for the part it relayed); or broken (the node failed, or never finished).
 */
export type Ending = "complete" | "cut_for_client" | "broken";

export interface AnswerFacts {
  /**
   * The counts the node claims: the usage of a complete answer, or its receipt's for one cut short for the client;
   * null when it reported none.
   */
  claim: TokenCounts | null;
  ending: Ending;
  /** The gateway's own count, recorded (never billed) when the node reported no usage. */
  estimate: TokenCounts;
  /** The receipt's check; null when there was nothing to check it against. */
  receipt: ReceiptCheck | null;
  /** The most that may be billed (token-bounds.ts): a claim above either is a mismatch. */
  bounds: TokenLimits;
  /**
   * Above these a mismatch is the node's fault; between them it is not: the part a node sent after its client left
   * beyond the grace (on its way before the cancel arrived) is unpaid, but it was honest work.
   */
  blameAbove: TokenLimits;
  /**
   * The prompt bound rests on an allowance for media parts the request carried: a claim above it may be the request's
   * doing rather than the node's, so it goes unpaid without counting against the node.
   */
  mediaInPrompt: boolean;
  /** Micro-units the key's budget holds for this request; null for a key without a budget. */
  reserved: number | null;
  feeBps: number;
}

export type AnswerBill = Pick<
  UsageEntry,
  | "prompt_tokens"
  | "completion_tokens"
  | "total_tokens"
  | "cost"
  | "node_amount"
  | "billable"
  | "estimated"
  | "receipt_status"
>;

export interface BillDecision {
  bill: AnswerBill;
  /** The node accounted for its answer wrongly (it over-claimed, or reported nothing): its reputation pays. */
  nodeAtFault: boolean;
}

function clamped(counts: TokenCounts, bounds: TokenLimits): TokenCounts {
  const prompt = Math.min(counts.prompt_tokens, bounds.promptTokens);
  const completion = Math.min(counts.completion_tokens, bounds.completionTokens);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function unbilled(counts: TokenCounts, bounds: TokenLimits, status: ReceiptStatus, nodeAtFault: boolean): BillDecision {
  const bill = {
    ...clamped(counts, bounds),
    cost: 0,
    node_amount: 0,
    billable: false,
    estimated: status === "estimated",
    receipt_status: status,
  };
  return { bill, nodeAtFault };
}

export function billAnswer(f: AnswerFacts): BillDecision {
  const { claim, bounds } = f;
  if (claim === null)
    return unbilled(f.estimate, bounds, f.ending === "complete" ? "estimated" : "incomplete", f.ending === "complete");
  if (f.ending === "broken") return unbilled(claim, bounds, "incomplete", false);
  if (claim.completion_tokens > bounds.completionTokens || claim.prompt_tokens > bounds.promptTokens) {
    const blamed =
      claim.completion_tokens > f.blameAbove.completionTokens ||
      (claim.prompt_tokens > f.blameAbove.promptTokens && !f.mediaInPrompt);
    return unbilled(claim, bounds, "mismatch", blamed);
  }
  if (f.receipt === null) return unbilled(claim, bounds, "missing", false);
  if (f.receipt.status !== "ok") return unbilled(claim, bounds, f.receipt.status, f.receipt.status === "mismatch");
  const amount = nodeAmount(claim, f.receipt.receipt.price);
  const cost = clientCost(amount, f.feeBps);
  // Within the bounds yet above what the budget holds: a long answer from a node that advertised no context length,
  // for a client that set no cap (the reservation assumed a default). Spend never passes a budget; the node was not
  // lying, only silent about its context.
  if (f.reserved !== null && cost > f.reserved) return unbilled(claim, bounds, "mismatch", false);
  const status = f.ending === "complete" ? "ok" : "partial";
  return {
    bill: { ...claim, cost, node_amount: amount, billable: true, estimated: false, receipt_status: status },
    nodeAtFault: false,
  };
}

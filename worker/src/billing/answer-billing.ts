// What one answered request is billed: exactly the usage the node reported and signed for, at the price on its
// receipt, plus the gateway's fee; or nothing, with the reason recorded. Never an estimate.
import { clientCost, nodeAmount } from "@meshgate/schemas";
import type { TokenCounts } from "../metering/usage.js";
import type { ReceiptCheck } from "./receipt-check.js";
import type { ReceiptStatus, UsageEntry } from "./records.js";
import type { WorstCase } from "./request-cost.js";

export interface AnswerFacts {
  /** Usage as the node reported it in the answer; null when it reported none. */
  usage: TokenCounts | null;
  /** The answer ended as it should (a whole 200 body, or a stream through `[DONE]`). */
  complete: boolean;
  /** The gateway's own count, recorded (never billed) when the node reported no usage. */
  estimate: TokenCounts;
  /** The receipt's check; null when there was nothing to check it against. */
  receipt: ReceiptCheck | null;
  /** What was reserved for: usage above it means the node ignored the cap or over-reported. */
  worstCase: WorstCase;
  feeBps: number;
}

export type AnswerBill = Pick<UsageEntry, "prompt_tokens" | "completion_tokens" | "total_tokens" | "cost" | "node_amount" | "billable" | "estimated" | "receipt_status">;

function unbilled(counts: TokenCounts, status: ReceiptStatus): AnswerBill {
  return { ...counts, cost: 0, node_amount: 0, billable: false, estimated: status === "estimated", receipt_status: status };
}

export function billAnswer(f: AnswerFacts): AnswerBill {
  if (f.usage === null) return unbilled(f.estimate, f.complete ? "estimated" : "incomplete");
  if (!f.complete) return unbilled(f.usage, "incomplete");
  if (f.usage.prompt_tokens > f.worstCase.promptTokens || f.usage.completion_tokens > f.worstCase.completionTokens) return unbilled(f.usage, "mismatch");
  if (f.receipt === null) return unbilled(f.usage, "missing");
  if (f.receipt.status !== "ok") return unbilled(f.usage, f.receipt.status);
  const amount = nodeAmount(f.usage, f.receipt.receipt.price);
  return { ...f.usage, cost: clientCost(amount, f.feeBps), node_amount: amount, billable: true, estimated: false, receipt_status: "ok" };
}

/**
 * Billing statuses that say the node accounted for its answer wrongly: they lower its reputation. A receipt that is
 * missing, or signed by a key the gateway does not hold as the node's (an agent too old to sign; a key rotated
 * seconds ago, before the gateway's copy of the registry caught up) is simply not paid: that says nothing about
 * the answer, and the node's own loss is reason enough to fix it.
 */
export function isMeteringFailure(status: ReceiptStatus): boolean {
  return status === "mismatch" || status === "estimated";
}

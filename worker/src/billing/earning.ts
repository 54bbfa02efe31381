// The earning a billable usage entry owes its node: the node's own signed receipt, its Merkle leaf, and the amount.
import { decodeReceipt, receiptLeaf, toHex } from "@meshgate/schemas";
import type { Earning, UsageEntry } from "./records.js";

/** Null for an entry that owes nothing: not billable, no receipt, or a receipt that does not decode (logged). */
export function earningOf(entry: UsageEntry): Earning | null {
  if (!entry.billable || entry.receipt === null) return null;
  const signed = decodeReceipt(entry.receipt);
  if (!signed) {
    // The request path only bills verified receipts, so this is a bug there; the client's charge stays recorded.
    console.error("billable usage entry with an undecodable receipt", entry.request_id);
    return null;
  }
  return {
    request_id: entry.request_id,
    node_id: entry.node_id,
    receipt: entry.receipt,
    leaf: toHex(receiptLeaf(signed.bytes)),
    prompt_tokens: signed.receipt.prompt_tokens,
    completion_tokens: signed.receipt.completion_tokens,
    amount: entry.node_amount,
    created: signed.receipt.created,
  };
}

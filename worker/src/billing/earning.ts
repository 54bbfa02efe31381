// The earning a billable usage entry owes its node: the node's own signed receipt, its Merkle leaf, and the amount.
import { decodeReceipt, toHex } from "@meshgate/schemas";
import type { Earning, UsageEntry } from "./records.js";

/**
 * schemas' receiptLeaf (sha256(sha256(bytes))), hashed by the runtime: a pure-JS sha256 per billable row was most of
 * what an account spent on recording it.
 */
export async function nativeReceiptLeaf(bytes: Uint8Array): Promise<Uint8Array> {
  const once = await crypto.subtle.digest("SHA-256", bytes);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", once));
}

/** Null for an entry that owes nothing: not billable, no receipt, or a receipt that does not decode (logged). */
export async function earningOf(entry: UsageEntry): Promise<Earning | null> {
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
    leaf: toHex(await nativeReceiptLeaf(signed.bytes)),
    prompt_tokens: signed.receipt.prompt_tokens,
    completion_tokens: signed.receipt.completion_tokens,
    amount: entry.node_amount,
    created: signed.receipt.created,
  };
}

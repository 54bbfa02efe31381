// Checks a node's signed receipt against what the gateway itself saw of the answer. Only a receipt that agrees in
// every field makes the answer billable: the node is paid for exactly what the client received. (Its token counts
// are further bounded by what was relayed: see token-bounds.ts and answer-billing.ts.)
import { decodeReceipt, type Price, type Receipt } from "@meshgate/schemas";
import type { ReceiptStatus } from "./records.js";

/** A node's clock may differ from the gateway's by this much. */
export const RECEIPT_CLOCK_SKEW_MS = 60_000;

export interface Observed {
  requestId: string;
  nodeId: string;
  /** The model the request was sent to the node for. */
  model: string;
  /**
   * The usage the node reported in its answer, which the receipt must repeat; null for a stream cut short because its
   * client left (no usage came): then the receipt's own counts are the claim.
   */
  usage: { promptTokens: number; completionTokens: number } | null;
  /** Digest of the answer as the gateway received it (bodyDigest or StreamDigest). */
  digest: string;
  /** The most the node may charge: its advertised price when it was chosen, and never above the ceiling. */
  maxPrice: Price;
  startedAt: number;
  finishedAt: number;
}

export type ReceiptCheck =
  | { status: "ok"; receipt: Receipt }
  | { status: Exclude<ReceiptStatus, "ok" | "estimated" | "incomplete">; reason: string };

/** `verify` checks the node's Ed25519 signature over the receipt bytes with the node's current key. */
export async function checkReceipt(
  token: string | null,
  observed: Observed,
  verify: (signature: Uint8Array, bytes: Uint8Array) => Promise<boolean>,
): Promise<ReceiptCheck> {
  if (token === null) return { status: "missing", reason: "the node sent no receipt" };
  const signed = decodeReceipt(token);
  if (!signed) return { status: "invalid", reason: "the receipt is not well-formed" };
  if (!(await verify(signed.signature, signed.bytes)))
    return { status: "invalid", reason: "the receipt's signature is not the node's" };
  const r = signed.receipt;
  const disagreement =
    r.request_id !== observed.requestId
      ? "request id"
      : r.node_id !== observed.nodeId
        ? "node id"
        : r.model !== observed.model
          ? "model"
          : observed.usage !== null &&
              (r.prompt_tokens !== observed.usage.promptTokens ||
                r.completion_tokens !== observed.usage.completionTokens)
            ? "token counts"
            : r.body_digest !== observed.digest
              ? "body digest"
              : r.price.prompt > observed.maxPrice.prompt || r.price.completion > observed.maxPrice.completion
                ? "price above the advertised one or the ceiling"
                : r.created < observed.startedAt - RECEIPT_CLOCK_SKEW_MS ||
                    r.created > observed.finishedAt + RECEIPT_CLOCK_SKEW_MS
                  ? "time"
                  : null;
  return disagreement === null
    ? { status: "ok", receipt: r }
    : { status: "mismatch", reason: `the receipt's ${disagreement} disagrees with the answer` };
}

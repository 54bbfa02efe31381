// Usage entries as the request path settles them, and node receipts for the billable ones (signature bytes only:
// accounts pass receipts on without checking signatures, which the request path already did).
import { bodyDigest, encodeReceipt, receiptBytes, utf8, type Receipt } from "@meshgate/schemas";
import type { UsageEntry } from "../src/billing/records.js";
import { DAY_MS, startOfDay } from "../src/billing/retention.js";

/** Midnight UTC at the start of today, and of `n` days from it: usage tests stay well within the retention. */
export const TODAY = startOfDay(Date.now());
export const day = (n: number, hours = 0) => TODAY + n * DAY_MS + hours * 3_600_000;

export const NODE_A = "A".repeat(43);
export const NODE_B = "B".repeat(43);

export function receiptFor(
  e: Pick<UsageEntry, "request_id" | "node_id" | "model" | "prompt_tokens" | "completion_tokens">,
  created: number,
): string {
  const receipt: Receipt = {
    request_id: e.request_id,
    node_id: e.node_id,
    model: e.model,
    prompt_tokens: e.prompt_tokens,
    completion_tokens: e.completion_tokens,
    price: { prompt: 1_000_000, completion: 2_000_000 },
    body_digest: bodyDigest(utf8("answer")),
    created,
  };
  return encodeReceipt(receiptBytes(receipt), new Uint8Array(64));
}

/** An unbilled entry (no receipt) unless `over` says otherwise. */
export function entry(request_id: string, over: Partial<UsageEntry> = {}): UsageEntry {
  return {
    request_id,
    created: day(-1, 12),
    key_id: "key_test",
    node_id: NODE_A,
    model: "m",
    prompt_tokens: 3,
    completion_tokens: 4,
    total_tokens: 7,
    cost: 0,
    node_amount: 0,
    billable: false,
    estimated: false,
    receipt_status: "missing",
    latency_ms: 12.6,
    status: 200,
    streamed: true,
    receipt: null,
    slice_id: null,
    ...over,
  };
}

/** A billable entry with its node's receipt. */
export function billable(request_id: string, cost: number, over: Partial<UsageEntry> = {}): UsageEntry {
  const e = entry(request_id, { cost, node_amount: cost - 1, billable: true, receipt_status: "ok", ...over });
  return { ...e, receipt: receiptFor(e, e.created + 500) };
}

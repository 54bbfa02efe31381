// What the request path hands to the billing Durable Objects, and what they answer. Money is integer micro-units,
// token counts are integers; no prompt or completion text ever appears here.

/** Per-key limits; null means none. `budget` is micro-units, over the key's whole life. */
export interface KeyLimits {
  budget: number | null;
  rpm: number | null;
  tpm: number | null;
}

/** The worst case of one request, held against the key's budget and token rate until the answer is recorded. */
export interface Reservation {
  request_id: string;
  /** Micro-units: worst-case prompt tokens and the completion cap at the chosen node's price, plus the fee. */
  amount: number;
  /** Tokens counted against tokens-per-minute: likely prompt tokens + the completion cap. */
  tokens: number;
}

/** OpenAI's `x-ratelimit-*` response headers (names lower-case), present for the limits a key has. */
export type RateLimitHeaders = Record<string, string>;

export type ReserveResult =
  | { ok: true; headers: RateLimitHeaders }
  | {
      ok: false;
      /** insufficient_quota: the budget can't cover the worst case; rate_limit_exceeded: rpm or tpm. */
      code: "insufficient_quota" | "rate_limit_exceeded";
      message: string;
      /** Seconds until a retry can succeed; null when waiting won't help (budget spent, request bigger than tpm). */
      retryAfterSeconds: number | null;
      headers: RateLimitHeaders;
      /** insufficient_quota: micro-units still free in the budget (a cheaper node's worst case may fit). */
      budgetLeft?: number;
    };

/** Why a row is or is not billable. */
export type ReceiptStatus =
  | "ok"
  /** The node sent no receipt. */
  | "missing"
  /** Not a well-formed receipt, or its signature is not the node's. */
  | "invalid"
  /** A well-formed, signed receipt that disagrees with what the gateway observed (tokens, digest, ids, price, time). */
  | "mismatch"
  /** The answer carried no usage: the gateway counted the tokens itself, and does not bill from a count. */
  | "estimated"
  /** The answer did not complete (the node failed mid-stream, or never sent a receipt for the part it relayed). */
  | "incomplete"
  /** The client left mid-stream and the node was stopped: billed from its receipt for the part it relayed. */
  | "partial";

/** One answered request, as its key's account records it (idempotent on request_id). */
export interface UsageEntry {
  request_id: string;
  /** ms since the epoch: when the request arrived. */
  created: number;
  key_id: string;
  node_id: string;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** What the client is charged, micro-units (0 unless billable). */
  cost: number;
  /** What the node is owed, micro-units (0 unless billable). */
  node_amount: number;
  billable: boolean;
  /** The counts are the gateway's own estimate (the node reported no usage). */
  estimated: boolean;
  receipt_status: ReceiptStatus;
  latency_ms: number;
  status: number;
  streamed: boolean;
  /** The node's signed receipt (wire form) of a billable row, passed on to the node's earnings shard. */
  receipt: string | null;
  /**
   * The slice (billing/slices.ts) the request was admitted from, whose hold its cost is charged against; null when it
   * held a reservation of its own (or none: a key without limits).
   */
  slice_id: string | null;
}

/** One billable receipt, as an earnings shard keeps it until a settlement includes it. */
export interface Earning {
  request_id: string;
  node_id: string;
  /** The receipt in wire form (encodeReceipt): canonical bytes and the node's signature. */
  receipt: string;
  /** receiptLeaf() of the receipt bytes, 0x-hex. */
  leaf: string;
  prompt_tokens: number;
  completion_tokens: number;
  /** nodeAmount(receipt tokens, receipt price), micro-units. */
  amount: number;
  /** The receipt's `created` (ms since the epoch): which period it belongs to. */
  created: number;
}

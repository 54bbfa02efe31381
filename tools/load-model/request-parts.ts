// The pieces of one simulated request that any design's driver shares: what the client sends, what the node
// charges, how long it answers, and the usage row the record step writes.
import type { UsageEntry } from "../../worker/src/billing/records.js";
import type { RequestShape } from "../../worker/src/billing/request-shape.js";
import { LEASE_RENEW_MS } from "../../worker/src/routing/index.js";

export const MODEL = "llama-3.1-8b";
/** A chat request with a 256-token cap and a short prompt: its worst case is what the budget reserves. */
export const SHAPE: RequestShape = {
  generates: true,
  choices: 1,
  cap: 256,
  logprobs: false,
  tools: false,
  stopBytes: 0,
  hiddenOutput: null,
  mediaParts: 0,
};
export const BODY_BYTES = 600;
export const TERMS = { price: { prompt: 100_000, completion: 200_000 }, contextLength: 8_192 };

export function nodeId(n: number): string {
  return `node-${n}`;
}

/** Waits `ms` on the simulated clock, renewing the slot's lease every LEASE_RENEW_MS meanwhile (holdLease). */
export async function answer(ms: number, renew: () => void): Promise<void> {
  for (let left = ms; left > 0; left -= LEASE_RENEW_MS) {
    const wait = Math.min(left, LEASE_RENEW_MS);
    await new Promise<void>((resolve) => setTimeout(resolve, wait));
    if (wait === LEASE_RENEW_MS && left > wait) renew();
  }
}

export function usageRow(requestId: string, keyId: string, node: string, startedAt: number, now: number): UsageEntry {
  return {
    request_id: requestId,
    created: startedAt,
    key_id: keyId,
    node_id: node,
    model: MODEL,
    prompt_tokens: 150,
    completion_tokens: 200,
    total_tokens: 350,
    cost: 55_000,
    node_amount: 55_000,
    billable: true,
    estimated: false,
    receipt_status: "ok",
    latency_ms: now - startedAt,
    status: 200,
    streamed: true,
    receipt: "receipt",
    slice_id: null,
  };
}

/**
 * What authenticate reads of a request: its Authorization header. Not a whole Request, whose construction (an abort
 * signal, a body stream) was a tenth of a full run's time.
 */
export function bearerRequest(token: string, colo: string): Request {
  const authorization = `Bearer ${token}`;
  const headers = { get: (name: string) => (name.toLowerCase() === "authorization" ? authorization : null) };
  return { headers, cf: { colo } } as unknown as Request;
}

// What one dispatch to one node came to, as the router learns from it.

/**
 * - success: a complete, well-formed answer.
 * - busy: a 429; the node was honest about being full, so it lowers the learned capacity, not the reputation.
 * - error: unreachable, refused, a 5xx, a redirect.
 * - timeout: no first token within the first-token deadline. Reported only as evidence against the node (the gateway
 *   chose it for an ordinary prompt, and another node then answered): timeout-evidence.ts.
 * - stalled: the stream started, then stopped sending.
 * - sse_error: an error envelope inside a 200 stream.
 * - malformed: a 200 that is not what was asked for (broken JSON, a stream without `[DONE]`).
 * - unmetered: a complete answer the node did not account for exactly (no usage, no valid receipt, a receipt that
 *   disagrees with the answer): the client was served, but the node can't be billed or trusted to meter.
 */
export type OutcomeKind =
  | "success"
  | "busy"
  | "error"
  | "timeout"
  | "stalled"
  | "sse_error"
  | "malformed"
  | "unmetered";

export interface Outcome {
  nodeId: string;
  model: string;
  kind: OutcomeKind;
  /** When the outcome was known, ms since the epoch. */
  at: number;
  /** Time to first token (streams) or to the answer's headers; for a timeout, the time waited. */
  ttftMs: number | null;
  /** Completion tokens and the time spent streaming them after the first, for the throughput estimate. */
  tokens: number | null;
  streamMs: number | null;
  /** Requests the gateway knew the node had in flight besides this one: what a 429 says its capacity is. */
  inFlight: number | null;
  /** The request's prompt bound (prefill.ts): a long prompt's first token is slow on any node. Absent: ordinary. */
  promptTokens?: number;
  /** Who asked (the API key's id), for a timeout: ejection needs several clients' (timeout-evidence.ts). */
  client?: string;
}

/**
 * How much one outcome counts against a node's reputation. Stalls, timeouts and malformed answers cost the client the
 * most (a wait, or a broken answer) and are what a misbehaving node does, so they count double.
 */
export const FAILURE_WEIGHT: Readonly<Record<Exclude<OutcomeKind, "success" | "busy">, number>> = {
  error: 1,
  sse_error: 1,
  timeout: 2,
  stalled: 2,
  malformed: 2,
  unmetered: 2,
};

export function isFailure(kind: OutcomeKind): kind is keyof typeof FAILURE_WEIGHT {
  return kind !== "success" && kind !== "busy";
}

/**
 * Failures that eject a node at once: the client waited for nothing, and the next request would too. Not a timeout:
 * a client can cause one on purpose (timeout-evidence.ts says when timeouts eject).
 */
export function isSevere(kind: OutcomeKind): boolean {
  return kind === "stalled";
}

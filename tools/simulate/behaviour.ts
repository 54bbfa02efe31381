// What one dispatch to one node comes to, decided at dispatch time from the node's true traits, how many requests it
// is already serving, and its own random stream. Churn is known in advance, so a node that goes dark mid-request is
// folded in here too.
import type { OutcomeKind } from "@meshgate/worker/routing";
import type { SimNode } from "./mesh.js";
import { normal, type Rng } from "./random.js";

/** The gateway's wait for a first token before it tries the next node. */
export const FIRST_TOKEN_TIMEOUT_MS = 10_000;
/** How long a stream may go quiet before the gateway gives up on it. */
export const STALL_TIMEOUT_MS = 10_000;
/** A dark node's connections fail after this. */
export const CONNECT_TIMEOUT_MS = 2_000;
/** How fast a fast-erroring adversary answers. */
export const FAST_ERROR_MS = 5;
/** An honest node's TTFT at full load is this much above its unloaded TTFT (linear in between). */
export const LOAD_SLOWDOWN = 0.5;
/** A liar refuses with a 429 only past this multiple of its real capacity. */
export const LIAR_REFUSES_AT = 4;
/** Spread of one node's streaming speed from one request to the next. */
const STREAM_SIGMA = 0.2;
/** How a flaky node's failures split: a 5xx, an error envelope instead of the first token, or a mid-stream stall. */
const FLAKY_ERROR = 0.4;
const FLAKY_SSE_ERROR = 0.3;

export interface AttemptPlan {
  kind: OutcomeKind;
  /** After dispatch: when the gateway knows the outcome and the request stops counting against the node. */
  endMs: number;
  /** After dispatch: when the client got its first token (success or mid-stream stall), else null. */
  firstTokenMs: number | null;
  /** Holds one of the node's real slots (refusals do not). */
  occupies: boolean;
  ttftMs: number | null;
  tokens: number | null;
  streamMs: number | null;
}

function failed(kind: OutcomeKind, endMs: number, occupies: boolean): AttemptPlan {
  return {
    kind,
    endMs,
    firstTokenMs: null,
    occupies,
    ttftMs: kind === "timeout" ? FIRST_TOKEN_TIMEOUT_MS : endMs,
    tokens: null,
    streamMs: null,
  };
}

/** 429 threshold: honest and flaky nodes at their real capacity, liars at a multiple; stall and fast-error never. */
export function refusesAt(node: SimNode): number {
  switch (node.behaviour.kind) {
    case "liar":
      return LIAR_REFUSES_AT * node.behaviour.realCapacity;
    case "stall":
    case "fast_error":
      return Infinity;
    default:
      return node.trueCapacity;
  }
}

/**
 * `busy` = requests the node is already serving. Always six draws from `rng`, so the stream's position depends only
 * on how many requests the node got.
 */
export function planAttempt(node: SimNode, busy: number, tokens: number, dispatchAt: number, rng: Rng): AttemptPlan {
  const zTtft = normal(rng);
  const zStream = normal(rng);
  const uFail = rng.next();
  const uKind = rng.next();
  if (dispatchAt >= node.goneAt) return failed("error", node.dark ? CONNECT_TIMEOUT_MS : node.rttMs, false);
  if (busy >= refusesAt(node)) return failed("busy", node.rttMs, false);
  const b = node.behaviour;
  if (b.kind === "stall") return failed("timeout", FIRST_TOKEN_TIMEOUT_MS, true);
  if (b.kind === "fast_error")
    return darkens(node, dispatchAt, failed(uKind < 0.5 ? "error" : "sse_error", node.rttMs + FAST_ERROR_MS, true));
  const queue = b.kind === "liar" ? Math.max(0, busy + 1 - b.realCapacity) : 0;
  const slowdown = b.kind === "liar" ? 1 + queue : 1 + (LOAD_SLOWDOWN * busy) / node.trueCapacity;
  const ttft = node.rttMs + node.ttftMedianMs * Math.exp(node.ttftSigma * zTtft) * slowdown;
  const share = b.kind === "liar" ? Math.max(1, (busy + 1) / b.realCapacity) : 1;
  const streamMs = ((tokens * 1000) / node.tokensPerSecond) * Math.exp(STREAM_SIGMA * zStream) * share;
  if (ttft > FIRST_TOKEN_TIMEOUT_MS) return darkens(node, dispatchAt, failed("timeout", FIRST_TOKEN_TIMEOUT_MS, true));
  if (b.kind === "flaky" && uFail < b.failShare) {
    if (uKind < FLAKY_ERROR)
      return darkens(node, dispatchAt, failed("error", node.rttMs + (ttft - node.rttMs) / 2, true));
    if (uKind < FLAKY_ERROR + FLAKY_SSE_ERROR) return darkens(node, dispatchAt, failed("sse_error", ttft, true));
    // Streams part of the answer, then goes quiet; the gateway notices after the stall timeout.
    const quietAt = ttft + streamMs * ((uKind - FLAKY_ERROR - FLAKY_SSE_ERROR) / (1 - FLAKY_ERROR - FLAKY_SSE_ERROR));
    return darkens(node, dispatchAt, stalled(ttft, quietAt));
  }
  return darkens(node, dispatchAt, {
    kind: "success",
    endMs: ttft + streamMs,
    firstTokenMs: ttft,
    occupies: true,
    ttftMs: ttft,
    tokens,
    streamMs,
  });
}

function stalled(ttft: number, quietAt: number): AttemptPlan {
  return {
    kind: "stalled",
    endMs: quietAt + STALL_TIMEOUT_MS,
    firstTokenMs: ttft,
    occupies: true,
    ttftMs: ttft,
    tokens: null,
    streamMs: null,
  };
}

/**
 * A node going dark before the attempt ends: before its first token the gateway times out; after, the stream stalls.
 */
function darkens(node: SimNode, dispatchAt: number, plan: AttemptPlan): AttemptPlan {
  if (!node.dark) return plan;
  const darkIn = node.goneAt - dispatchAt;
  const firstSignal = plan.firstTokenMs ?? plan.endMs;
  if (darkIn < firstSignal) return failed("timeout", FIRST_TOKEN_TIMEOUT_MS, true);
  if (plan.kind === "success" && darkIn < plan.endMs) return stalled(plan.firstTokenMs ?? 0, darkIn);
  return plan;
}

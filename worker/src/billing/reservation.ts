// Whether a key's account can take one more request, and what that takes: the budget (worst-case cost held until
// recorded), one request from the requests-per-minute bucket and the request's tokens from the tokens-per-minute
// bucket. Checked in that order; a refusal takes nothing.
import { available, perMinute, retryAfterSeconds, take, type Bucket } from "../limits/token-bucket.js";
import { goDuration } from "../lib/go-duration.js";
import { rateLimitHeaders } from "./rate-limit-headers.js";
import type { KeyLimits, Reservation, ReserveResult } from "./records.js";

/**
 * A reservation not recorded or released by then is dropped. It must outlast any answer still streaming, and a stream
 * has no overall time limit (it ends when the node stops sending for 30 s, UPSTREAM_STALL_MS), hence an hour rather
 * than minutes. What it bounds is the hold left by a Worker that died after reserving: not kept for ever.
 */
export const RESERVATION_TTL_MS = 60 * 60_000;

export interface AccountState {
  limits: KeyLimits;
  /** Micro-units charged so far, over the key's life. */
  spent: number;
  /** Micro-units held by live reservations. */
  reserved: number;
  requests: Bucket;
  tokens: Bucket;
}

/**
 * What one reservation holds: micro-units against the budget, tokens taken from the tokens-per-minute bucket. A type
 * rather than an interface, so SQL rows can be read as one.
 */
export type Hold = {
  amount: number;
  tokens: number;
};

export type ReserveDecision =
  | { ok: true; hold: Hold; requests: Bucket; tokens: Bucket; result: ReserveResult }
  | { ok: false; result: ReserveResult };

/** Keys without limits need no reservation at all. */
export function hasAnyLimit(limits: KeyLimits): boolean {
  return limits.budget !== null || limits.rpm !== null || limits.tpm !== null;
}

type Refusal = Extract<ReserveResult, { ok: false }>;

const PER_MINUTE = { requests: "requests per min (RPM)", tokens: "tokens per min (TPM)" } as const;

// The messages follow OpenAI's, so clients and people recognise them.
export function overBudget(amount: number, left: number, budget: number): string {
  return (
    "You exceeded your current quota, please check your plan and billing details. " +
    `This request may cost up to ${amount} micro-units; this key has ${left} of its ${budget} budget left (after requests in flight).`
  );
}

function tooLarge(limit: number, requested: number): string {
  return (
    `Request too large for this API key on ${PER_MINUTE.tokens}: Limit ${limit}, Requested ${requested}. ` +
    "The input or output tokens must be reduced in order to run successfully."
  );
}

type Wait = { message: string; retryAfterSeconds: number };

/** Takes `n` from a per-minute bucket, or says when to retry (in OpenAI's words and as Retry-After seconds). */
function takeOrWait(
  kind: keyof typeof PER_MINUTE,
  bucket: Bucket,
  limit: number,
  n: number,
  now: number,
): { bucket: Bucket } | Wait {
  const rate = perMinute(limit);
  const taken = take(bucket, rate, n, now);
  if (taken.ok) return { bucket: taken.bucket };
  const wait = taken.waitMs ?? 0;
  const used = limit - available(bucket, rate, now);
  return {
    message:
      `Rate limit reached for this API key on ${PER_MINUTE[kind]}: Limit ${limit}, Used ${used}, Requested ${n}. ` +
      `Please try again in ${goDuration(wait)}.`,
    retryAfterSeconds: retryAfterSeconds(wait),
  };
}

/**
 * `held` is what an earlier reservation of the same request holds (a failover to a pricier node raises it): then only
 * the increase is checked and taken, and no second request is counted.
 */
export function decideReserve(state: AccountState, r: Reservation, held: Hold | null, now: number): ReserveDecision {
  const { limits } = state;
  const refuse = (
    code: Refusal["code"],
    message: string,
    retryAfterSeconds: number | null,
    more: Pick<Refusal, "budgetLeft"> = {},
  ): ReserveDecision => ({
    ok: false,
    result: {
      ok: false,
      code,
      message,
      retryAfterSeconds,
      headers: rateLimitHeaders(limits, state.requests, state.tokens, now),
      ...more,
    },
  });
  const extraAmount = Math.max(0, r.amount - (held?.amount ?? 0));
  const extraTokens = limits.tpm === null ? 0 : Math.max(0, r.tokens - (held?.tokens ?? 0));

  // A request that can cost nothing more passes even when an earlier answer overran the budget.
  if (limits.budget !== null && extraAmount > 0 && state.spent + state.reserved + extraAmount > limits.budget) {
    const left = Math.max(0, limits.budget - state.spent - state.reserved);
    return refuse("insufficient_quota", overBudget(extraAmount, left, limits.budget), null, { budgetLeft: left });
  }

  let requests = state.requests;
  if (limits.rpm !== null && held === null) {
    const taken = takeOrWait("requests", requests, limits.rpm, 1, now);
    if (!("bucket" in taken)) return refuse("rate_limit_exceeded", taken.message, taken.retryAfterSeconds);
    requests = taken.bucket;
  }

  let tokens = state.tokens;
  if (limits.tpm !== null && extraTokens > 0) {
    if (r.tokens > limits.tpm) return refuse("rate_limit_exceeded", tooLarge(limits.tpm, r.tokens), null);
    const taken = takeOrWait("tokens", tokens, limits.tpm, extraTokens, now);
    if (!("bucket" in taken)) return refuse("rate_limit_exceeded", taken.message, taken.retryAfterSeconds);
    tokens = taken.bucket;
  }

  const hold = { amount: (held?.amount ?? 0) + extraAmount, tokens: (held?.tokens ?? 0) + extraTokens };
  return {
    ok: true,
    hold,
    requests,
    tokens,
    result: { ok: true, headers: rateLimitHeaders(limits, requests, tokens, now) },
  };
}

// Slices: a key's account lends an isolate (a "holder") part of the key's budget, requests-per-minute and
// tokens-per-minute so the isolate can admit requests with no round trip. The account counts what a slice still holds
// as reserved, so `spent + reservations + outstanding slices ≤ budget` after every operation: a grant is shrunk or
// refused, never over. Pure: the KeyAccount stores the figures, these rules decide them.
//
// Every figure a holder reports is cumulative (given back so far, tokens owed so far), so a report sent twice (a lost
// reply, a retry) changes nothing the second time.
import { available, perMinute, reconcile, refund, type Bucket } from "../limits/token-bucket.js";
import { rateLimitHeaders } from "./rate-limit-headers.js";
import type { RateLimitHeaders, ReserveResult } from "./records.js";
import { decideReserve, RESERVATION_TTL_MS, type AccountState } from "./reservation.js";

/** How long a holder admits from a slice before it must renew (it renews about every 10 s while busy). */
export const SLICE_LEASE_MS = 10_000;
/** Admissions stop at `until` = the lease plus this grace, so a renewal a little late finds its slice still good. */
export const SLICE_GRACE_MS = 10_000;
/** One holder takes at most 1/SLICE_SHARE of what is free in each dimension, so other holders still find some. */
export const SLICE_SHARE = 4;

/** Budget micro-units, requests and tokens: what a slice holds, what a holder wants or gives back. */
export type Figures = { amount: number; requests: number; tokens: number };

export const NOTHING: Figures = { amount: 0, requests: 0, tokens: 0 };

/** A slice as its account keeps it (cumulative figures; `recorded` is what usage rows charged against it). */
export interface Slice {
  id: string;
  /** The holder's last lease call applied: a retried call (same or lower seq) grants nothing more. */
  seq: number;
  granted: Figures;
  returned: Figures;
  /** Tokens the holder used beyond what it was granted, taken from the tpm bucket as debt. */
  debtTokens: number;
  /** Micro-units of usage rows charged to the key that were admitted from this slice. */
  recorded: number;
  /** Admissions from the slice stop here. */
  until: number;
}

/** What a holder reports on every lease call: cumulative figures, applied once however often they are sent. */
export interface SliceReport {
  returned: Figures;
  debtTokens: number;
}

/** One call from a holder: the report of its slice, and what more it wants (nothing: a pure return). */
export interface LeaseRequest {
  sliceId: string;
  seq: number;
  report: SliceReport;
  /** More to add to the slice; the account grants at most a share of what is free. */
  want: Figures;
  /** The request that made the call: the slice must grow by at least this much, or the call is refused. */
  need: Figures | null;
  /** The holder admits nothing more from it: only what it still holds for answers in flight stays outstanding. */
  close: boolean;
}

export type LeaseReply =
  | { ok: true; slice: { id: string; granted: Figures; returned: Figures; until: number }; headers: RateLimitHeaders }
  | { ok: false; refusal: Extract<ReserveResult, { ok: false }> };

/** Micro-units the slice still holds against the budget: until it lapses, what was neither given back nor charged. */
export function outstanding(s: Slice, now: number): number {
  if (now >= lapsesAt(s)) return 0;
  return Math.max(0, s.granted.amount - s.returned.amount - s.recorded);
}

/**
 * Its unreturned amount is held until the answers it admitted have surely ended: an isolate that died holding it may
 * still have answers streaming, whose records must find the budget still held.
 */
export function lapsesAt(s: Pick<Slice, "until">): number {
  return s.until + RESERVATION_TTL_MS;
}

/** Each figure the larger of the two. */
export const maxFigures = (a: Figures, b: Figures): Figures => ({
  amount: Math.max(a.amount, b.amount),
  requests: Math.max(a.requests, b.requests),
  tokens: Math.max(a.tokens, b.tokens),
});

const add = (a: Figures, b: Figures): Figures => ({
  amount: a.amount + b.amount,
  requests: a.requests + b.requests,
  tokens: a.tokens + b.tokens,
});

const isFigure = (n: number) => Number.isSafeInteger(n) && n >= 0;

/** Whole, non-negative figures; anything else is a caller's bug, not a request to wave through. */
export function checkLease(l: LeaseRequest): void {
  const all = [l.report.returned, l.want, ...(l.need ? [l.need] : [])].flatMap((f) => [f.amount, f.requests, f.tokens]);
  if (![...all, l.report.debtTokens, l.seq].every(isFigure)) throw new RangeError(`invalid lease for ${l.sliceId}`);
}

/**
 * Applies a holder's report to its slice and the buckets: what it newly gives back returns to the buckets (never more
 * than it was granted), new debt is taken from the tpm bucket. Cumulative figures: only the increase since the last
 * report counts.
 */
export function applyReport(
  state: AccountState,
  s: Slice,
  report: SliceReport,
  now: number,
): { slice: Slice; requests: Bucket; tokens: Bucket } {
  const returned = maxFigures(s.returned, {
    amount: Math.min(report.returned.amount, s.granted.amount),
    requests: Math.min(report.returned.requests, s.granted.requests),
    tokens: Math.min(report.returned.tokens, s.granted.tokens),
  });
  const debtTokens = Math.max(s.debtTokens, report.debtTokens);
  let { requests, tokens } = state;
  const { rpm, tpm } = state.limits;
  if (rpm !== null) requests = refund(requests, perMinute(rpm), returned.requests - s.returned.requests, now);
  if (tpm !== null) {
    tokens = refund(tokens, perMinute(tpm), returned.tokens - s.returned.tokens, now);
    tokens = reconcile(tokens, perMinute(tpm), 0, debtTokens - s.debtTokens, now);
  }
  return { slice: { ...s, returned, debtTokens }, requests, tokens };
}

/**
 * A share of `free`, at most what was wanted, in whole units of the asking request's size (`unit`; 0 or 1: any), so
 * a slice never ends with a remnant too small for the requests it is for while the account could have covered one.
 */
function share(free: number, want: number, unit: number): number {
  const n = Math.min(want, Math.floor(free / SLICE_SHARE));
  return unit > 1 ? Math.floor(n / unit) * unit : n;
}

export type GrantDecision =
  | { ok: true; grant: Figures; requests: Bucket; tokens: Bucket; headers: RateLimitHeaders }
  | { ok: false; refusal: Extract<ReserveResult, { ok: false }> };

/**
 * How much more a slice gets. `state.reserved` must count every outstanding slice (this one's too). The request that
 * asked (`need`) is checked exactly as a reservation would be, with the same refusal; on top of it the holder gets at
 * most a share of what is then free in each dimension, in whole multiples of the request. A dimension without a limit
 * is granted nothing (the holder does not count it).
 */
export function decideGrant(state: AccountState, want: Figures, need: Figures | null, now: number): GrantDecision {
  let { requests, tokens } = state;
  if (need !== null) {
    const d = decideReserve(state, { request_id: "slice", amount: need.amount, tokens: need.tokens }, null, now);
    if (!d.ok) {
      if (d.result.ok) throw new Error("unreachable: a refused reservation's result is a refusal");
      return { ok: false, refusal: d.result };
    }
    requests = d.requests;
    tokens = d.tokens;
  }
  const n = need ?? NOTHING;
  const { budget, rpm, tpm } = state.limits;
  const freeAmount = budget === null ? 0 : Math.max(0, budget - state.spent - state.reserved - n.amount);
  const extra: Figures = {
    amount: budget === null ? 0 : share(freeAmount, Math.max(0, want.amount - n.amount), n.amount),
    requests: rpm === null ? 0 : share(available(requests, perMinute(rpm), now), Math.max(0, want.requests - 1), 1),
    tokens:
      tpm === null ? 0 : share(available(tokens, perMinute(tpm), now), Math.max(0, want.tokens - n.tokens), n.tokens),
  };
  if (rpm !== null) requests = { ...requests, level: requests.level - extra.requests * perMinute(rpm).periodMs };
  if (tpm !== null) tokens = { ...tokens, level: tokens.level - extra.tokens * perMinute(tpm).periodMs };
  const grant = add(extra, {
    amount: budget === null ? 0 : n.amount,
    requests: rpm === null || need === null ? 0 : 1,
    tokens: tpm === null ? 0 : n.tokens,
  });
  return { ok: true, grant, requests, tokens, headers: rateLimitHeaders(state.limits, requests, tokens, now) };
}

/** A slice the account has not seen yet, granted nothing so far. */
export function newSlice(id: string, now: number): Slice {
  return { id, seq: -1, granted: NOTHING, returned: NOTHING, debtTokens: 0, recorded: 0, until: now };
}

/** The slice after a grant: more granted, admissions open for another lease (or closed at once). */
export function extendSlice(s: Slice, grant: Figures, seq: number, close: boolean, now: number): Slice {
  return {
    ...s,
    seq,
    granted: add(s.granted, grant),
    until: close ? Math.min(s.until, now) : now + SLICE_LEASE_MS + SLICE_GRACE_MS,
  };
}

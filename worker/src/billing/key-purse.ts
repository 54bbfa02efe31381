// An isolate's purse for one key: a slice of the key's budget, requests-per-minute and tokens-per-minute lent by its
// account (billing/slices.ts), from which requests are admitted with no round trip. A key this isolate sees rarely
// reserves each request exactly at its account, as before; a key busy here leases a slice, renews it about every 10 s
// while busy (each renewal carrying the report of what was used), and gives back what it did not use once idle (a
// second while the account is short, a lease's length while it grants in full: see idleMs). Pure: the account comes
// in as an interface, time as `now`, the idle wait as a function.
import { overBudget } from "./reservation.js";
import type { KeyLimits, RateLimitHeaders, Reservation, ReserveResult } from "./records.js";
import type { ReservingAccount } from "./request-budget.js";
import {
  lapsesAt,
  maxFigures,
  NOTHING,
  SLICE_LEASE_MS,
  type Figures,
  type LeaseReply,
  type LeaseRequest,
} from "./slices.js";

/** The account as a purse calls it: exact reservations, and slices. */
export interface SliceAccount extends ReservingAccount {
  lease(l: LeaseRequest, now: number): Promise<LeaseReply>;
}

export interface PurseInit {
  limits: KeyLimits;
  account: () => SliceAccount;
  /** A fresh slice id (random: two isolates never share one). */
  newId: () => string;
  /** Resolves after `ms` with the time then: the idle wait before unused figures go back. */
  wait: (ms: number) => Promise<number>;
  /**
   * In [0, 1): where in ±25% of SLICE_LEASE_MS the next renewal falls, so isolates that leased together (a deploy, a
   * burst) do not all renew in the same second. 0.5 (none) when absent.
   */
  random?: () => number;
}

/**
 * Idle this long (no admission, nothing settled) while its account is short, the purse gives back what it does not hold
 * for answers in flight (SLICE_LEASE_MS while the account grants in full: see idleMs).
 */
export const PURSE_IDLE_MS = 1_000;
/** A lease asks for enough for this long at the recent rate (the account caps it at a share of what is free). */
const WANT_FOR_MS = 2 * SLICE_LEASE_MS;
/** An idle watch gives up after this long of a busy purse (it is kept alive by one request's waitUntil). */
const IDLE_WATCH_MS = 20_000;
/** The shortest pause between two looks of an idle watch. */
const IDLE_RECHECK_MS = 50;
/** A lease call unanswered this long is given up on by the requests waiting for it (see admit). */
const LEASE_ABANDONED_MS = 5_000;
/** How long an insufficient_quota is remembered here, so a key hammering past its budget spares its account. */
const REFUSAL_MEMORY_MS = 1_000;

type Refused = Extract<ReserveResult, { ok: false }>;
type Hold = { sliceId: string | null; amount: number; tokens: number };

/** The slice as this isolate counts it: figures cumulative, as its account keeps them. */
interface LocalSlice {
  id: string;
  seq: number;
  granted: Figures;
  returned: Figures;
  /** Tokens used beyond what was granted, owed to the tpm bucket (reported, so they count as granted too). */
  debtTokens: number;
  /** Held for answers in flight plus charged for answers settled; requests admitted; tokens counted. */
  used: Figures;
  until: number;
  renewAt: number;
}

export class KeyPurse implements ReservingAccount {
  headers: RateLimitHeaders = {};
  private slice: LocalSlice | null = null;
  private readonly holds = new Map<string, Hold>();
  private leasing: Promise<void> | null = null;
  /** The last grant gave all that was asked (see idleMs). */
  private plentiful = false;
  /** When the lease call in flight began: past LEASE_ABANDONED_MS it is taken for lost and no longer waited for. */
  private leasingSince = Number.NEGATIVE_INFINITY;
  private watching: Promise<void> | null = null;
  private remembered: { refusal: Refused; until: number } | null = null;
  private lastActive = Number.NEGATIVE_INFINITY;
  /** Reservations under way: a burst arriving at once is worth a slice before any of it is held. */
  private arriving = 0;
  /** Admissions in the last second (times), for the rate a lease is sized by. */
  private recent: number[] = [];

  constructor(private readonly init: PurseInit) {}

  get limits(): KeyLimits {
    return this.init.limits;
  }

  /** Nothing held, nothing lent: the purse can be dropped without losing anything. */
  get idle(): boolean {
    return this.slice === null && this.holds.size === 0 && this.leasing === null;
  }

  /**
   * The key changed (revoked, or its limits changed): what the slice has free goes back now, and the slice closes if no
   * answer holds part of it, so no more is admitted under the old limits; the next request asks the account again.
   * A lease in flight is waited for first: given back before its reply, what it grants would be held by a slice
   * closed here, at the account, until the slice lapses (its lease plus an hour).
   */
  retire(now: number): Promise<void> | null {
    this.remembered = null;
    // A lease in flight first (its grant must be heard of before the give-back), but not for ever: see admit.
    if (this.leasing !== null && now - this.leasingSince < LEASE_ABANDONED_MS) {
      const settled = Promise.race([this.leasing.then(() => now), this.init.wait(LEASE_ABANDONED_MS)]);
      return settled.then((at) => this.retire(at) ?? undefined);
    }
    return this.slice ? this.giveBack(this.slice, now) : null;
  }

  /** Holds a request's worst case: from the slice when it covers it, else from the account (leasing a slice first). */
  async reserve(r: Reservation, now: number): Promise<ReserveResult> {
    const prior = this.holds.get(r.request_id);
    if (prior) return this.raise(r, prior, now);
    this.arriving++;
    try {
      return await this.admit(r, now);
    } finally {
      this.arriving--;
    }
  }

  /**
   * Waiting for another request's lease costs no attempt: every lease admits its own request or is refused (and the
   * refusal is remembered), so each wait follows progress and the loop ends.
   */
  private async admit(r: Reservation, arrived: number): Promise<ReserveResult> {
    let attempts = 0;
    let now = arrived;
    for (;;) {
      if (this.takeLocal(r, now)) return { ok: true, headers: this.headers };
      const memo = this.rememberedFor(r, now);
      if (memo) return memo;
      if (this.leasing !== null && now - this.leasingSince < LEASE_ABANDONED_MS) {
        // Bounded: the call belongs to another request, and in workerd a promise another request started may never
        // settle once that request is gone.
        const woke = await Promise.race([this.leasing.then(() => null), this.init.wait(LEASE_ABANDONED_MS)]);
        now = woke ?? now;
        continue;
      }
      if (!this.worthLeasing(now) || attempts++ >= 2) return this.exact(r, null, now);
      const answer = await this.leaseFor(r, now);
      if (answer) return answer;
    }
  }

  /** The slice a request's hold is in; null for an exact reservation (or none). */
  sliceOf(requestId: string): string | null {
    return this.holds.get(requestId)?.sliceId ?? null;
  }

  /** No node answered: the holds end (the request still counted against rpm, as at the account). */
  async release(requestIds: string[], now: number): Promise<unknown> {
    const exact: string[] = [];
    for (const id of requestIds) {
      const hold = this.holds.get(id);
      if (!hold) continue;
      this.holds.delete(id);
      if (hold.sliceId === null) exact.push(id);
      else this.unhold(hold, 0, 0);
    }
    this.lastActive = now;
    const idle = this.idleLater();
    if (exact.length === 0) return idle;
    return Promise.all([this.init.account().release(exact, now), idle]);
  }

  /**
   * The answer's usage is recorded: a hold from the slice becomes its actual cost and tokens, the rest is free again.
   * Returns the idle wait after which unused figures go back (for the caller to keep alive); null if none is due.
   */
  settle(requestId: string, cost: number, totalTokens: number, now: number): Promise<void> | null {
    const hold = this.holds.get(requestId);
    if (!hold) return null;
    this.holds.delete(requestId);
    if (hold.sliceId !== null) this.unhold(hold, Math.min(cost, hold.amount), totalTokens);
    this.lastActive = now;
    return this.idleLater();
  }

  /** What the slice can still admit; Infinity for a dimension without a limit. */
  private free(s: LocalSlice): Figures {
    const { budget, rpm, tpm } = this.init.limits;
    const left = (limited: boolean, n: number) => (limited ? n : Number.POSITIVE_INFINITY);
    return {
      amount: left(budget !== null, s.granted.amount - s.returned.amount - s.used.amount),
      requests: left(rpm !== null, s.granted.requests - s.returned.requests - s.used.requests),
      tokens: left(tpm !== null, s.granted.tokens + s.debtTokens - s.returned.tokens - s.used.tokens),
    };
  }

  private takeLocal(r: Reservation, now: number): boolean {
    const s = this.slice;
    if (!s || now >= s.until || now >= s.renewAt) return false;
    const free = this.free(s);
    if (free.amount < r.amount || free.requests < 1 || free.tokens < r.tokens) return false;
    s.used = { amount: s.used.amount + r.amount, requests: s.used.requests + 1, tokens: s.used.tokens + r.tokens };
    this.holds.set(r.request_id, { sliceId: s.id, amount: r.amount, tokens: r.tokens });
    this.admitted(now);
    return true;
  }

  /** A hold in the current slice ends: its cost stays used, the rest of its amount is free; tokens become `tokens`. */
  private unhold(hold: Hold, cost: number, tokens: number): void {
    const s = this.slice;
    if (!s || s.id !== hold.sliceId) return;
    s.used = {
      amount: s.used.amount - hold.amount + cost,
      requests: s.used.requests,
      tokens: s.used.tokens - hold.tokens + tokens,
    };
    const owed = s.used.tokens - (s.granted.tokens + s.debtTokens - s.returned.tokens);
    if (this.init.limits.tpm !== null && owed > 0) s.debtTokens += owed;
  }

  private admitted(now: number): void {
    this.lastActive = now;
    this.recent = this.recent.filter((t) => t > now - 1_000);
    this.recent.push(now);
  }

  /** A slice pays off when this isolate is busy with the key: another request in flight, or one in the last second. */
  private worthLeasing(now: number): boolean {
    if (this.slice) return true;
    return this.arriving >= 2 || this.holds.size >= 1 || this.recent.some((t) => t > now - 1_000);
  }

  /** A failover to a pricier node: the difference from the slice if it has it, else the whole from the account. */
  private async raise(r: Reservation, prior: Hold, now: number): Promise<ReserveResult> {
    const s = this.slice;
    const extra = { amount: Math.max(0, r.amount - prior.amount), tokens: Math.max(0, r.tokens - prior.tokens) };
    if (prior.sliceId !== null && s && s.id === prior.sliceId && now < s.until) {
      const free = this.free(s);
      if (free.amount >= extra.amount && free.tokens >= extra.tokens) {
        s.used = { ...s.used, amount: s.used.amount + extra.amount, tokens: s.used.tokens + extra.tokens };
        this.holds.set(r.request_id, {
          ...prior,
          amount: prior.amount + extra.amount,
          tokens: prior.tokens + extra.tokens,
        });
        return { ok: true, headers: this.headers };
      }
    }
    return this.exact(r, prior, now);
  }

  /**
   * Today's per-request reservation. Replacing a hold in the slice, the slice's hold is kept until the account said
   * yes: for a moment both are held, never neither.
   */
  private async exact(r: Reservation, prior: Hold | null, now: number): Promise<ReserveResult> {
    const result = await this.init.account().reserve(r, now);
    this.headers = result.headers;
    if (!result.ok) {
      this.remember(result, now);
      return result;
    }
    if (prior?.sliceId) this.unhold(prior, 0, 0);
    this.holds.set(r.request_id, { sliceId: null, amount: r.amount, tokens: r.tokens });
    if (!prior) this.admitted(now);
    return result;
  }

  private remember(refusal: Refused, now: number): void {
    this.plentiful = false;
    if (refusal.code === "insufficient_quota") this.remembered = { refusal, until: now + REFUSAL_MEMORY_MS };
    else if (refusal.retryAfterSeconds !== null)
      this.remembered = { refusal, until: now + refusal.retryAfterSeconds * 1_000 };
  }

  /** A refusal still true for this request: rpm/tpm until its Retry-After, the budget for a second. */
  private rememberedFor(r: Reservation, now: number): Refused | null {
    const m = this.remembered;
    if (!m || now >= m.until) return null;
    if (m.refusal.code === "rate_limit_exceeded") {
      const retryAfterSeconds = Math.max(1, Math.ceil((m.until - now) / 1_000));
      return { ...m.refusal, retryAfterSeconds };
    }
    const left = m.refusal.budgetLeft ?? 0;
    const budget = this.init.limits.budget;
    if (r.amount <= left || budget === null) return null;
    return { ...m.refusal, message: overBudget(r.amount, left, budget) };
  }

  /**
   * One lease call at a time (single flight): requests arriving meanwhile wait for it, then try the slice.
   * The request's answer once leased: admitted from the grown slice, or refused; null: try again.
   */
  private async leaseFor(r: Reservation, now: number): Promise<ReserveResult | null> {
    const reply = this.callLease(r, now);
    this.track(reply, now);
    const answer = await reply;
    if (!answer.ok) {
      this.remember(answer.refusal, now);
      return answer.refusal;
    }
    return answer.admitted ? { ok: true, headers: this.headers } : null;
  }

  /** The lease call in flight, which others wait for (its failure is its caller's, not theirs). */
  private track(call: Promise<unknown>, now: number): void {
    const waiting = call.then(
      () => {},
      () => {},
    );
    this.leasing = waiting;
    this.leasingSince = now;
    void waiting.finally(() => {
      if (this.leasing === waiting) this.leasing = null;
    });
  }

  /**
   * Each call gives back what the slice has free (too little for this request, else it would not be asking) and asks
   * for the request and more: the account decides on the whole, so a remnant here plus what is free there can still
   * cover a request neither covers alone.
   */
  private async callLease(r: Reservation, now: number): Promise<LeaseReply & { admitted?: boolean }> {
    const s = this.current(now);
    s.seq++;
    this.giveBackFree(s);
    const need = { amount: r.amount, requests: 1, tokens: r.tokens };
    const want = this.wanted(r, now);
    const before = s.granted;
    const reply = await this.init
      .account()
      .lease({ sliceId: s.id, seq: s.seq, report: this.report(s), want, need, close: false }, now);
    if (reply.ok && this.slice === s) {
      this.plentiful = this.grantedAll(before, reply.slice.granted, want);
      s.granted = reply.slice.granted;
      s.until = reply.slice.until;
      s.renewAt = now + Math.round(SLICE_LEASE_MS * (0.75 + 0.5 * (this.init.random?.() ?? 0.5)));
      this.headers = reply.headers;
      // The grant included the need: taken at once, before requests waiting for this call take it.
      return { ...reply, admitted: this.takeLocal(r, now) };
    }
    return reply;
  }

  /** Whether a grant gave all that was asked in every dimension the key limits (the account was not short). */
  private grantedAll(before: Figures, after: Figures, want: Figures): boolean {
    const { budget, rpm, tpm } = this.init.limits;
    return (
      (budget === null || after.amount - before.amount >= want.amount) &&
      (rpm === null || after.requests - before.requests >= want.requests) &&
      (tpm === null || after.tokens - before.tokens >= want.tokens)
    );
  }

  /**
   * How long idle before giving back: a second while the account is short (its last grant fell short of what was
   * asked, or it refused), so other isolates and a sequential client get the rest at once; a lease's length while it
   * gave all that was asked, when holding the slice keeps nobody waiting, and a key busy in many isolates at about a
   * request a second each would otherwise lease and give back once per request.
   */
  private idleMs(): number {
    return this.plentiful ? SLICE_LEASE_MS : PURSE_IDLE_MS;
  }

  /** The slice to lease into: the current one while the account still keeps it, else a new one. */
  private current(now: number): LocalSlice {
    if (this.slice && now < lapsesAt(this.slice) - SLICE_LEASE_MS) return this.slice;
    this.slice = {
      id: this.init.newId(),
      seq: 0,
      granted: NOTHING,
      returned: NOTHING,
      debtTokens: 0,
      used: NOTHING,
      until: now,
      renewAt: now,
    };
    return this.slice;
  }

  /** Enough for the recent rate over the next lease or two, at this request's size. */
  private wanted(r: Reservation, now: number): Figures {
    const perSecond = this.recent.filter((t) => t > now - 1_000).length + this.holds.size + this.arriving;
    const requests = Math.max(2, Math.ceil((perSecond * WANT_FOR_MS) / 1_000));
    return { amount: requests * r.amount, requests, tokens: requests * r.tokens };
  }

  /** Counts what the slice has free as given back (the next report carries it); a dimension without a limit has none. */
  private giveBackFree(s: LocalSlice): void {
    const free = this.free(s);
    const back = (n: number) => (Number.isFinite(n) ? Math.max(0, n) : 0);
    s.returned = {
      amount: s.returned.amount + back(free.amount),
      requests: s.returned.requests + back(free.requests),
      tokens: s.returned.tokens + back(free.tokens),
    };
  }

  private report(s: LocalSlice): LeaseRequest["report"] {
    return { returned: s.returned, debtTokens: s.debtTokens };
  }

  /**
   * One idle watch per purse: it waits until a second passed with no admission and nothing settled, then gives back
   * (even with answers in flight, whose holds stay). A purse busy past the watch's span gets a new one at its next
   * settle.
   */
  private idleLater(): Promise<void> | null {
    if (!this.slice || this.watching !== null) return null;
    const watch = this.watchIdle().finally(() => {
      this.watching = null;
    });
    this.watching = watch;
    return watch;
  }

  /**
   * Wakes idleMs after the last activity (not after it started), so the give-back is prompt. A give-back
   * that fails is tried again a second later while the watch lasts: with no request to come here, nothing else would,
   * and the account would hold the slice's free part until it lapses (an hour after its lease).
   */
  private async watchIdle(): Promise<void> {
    let waited = 0;
    let pause = this.idleMs();
    let failure: unknown = null;
    while (waited < IDLE_WATCH_MS) {
      const now = await this.init.wait(pause);
      waited += pause;
      if (!this.slice) return;
      const quiet = now - this.lastActive;
      const idle = this.idleMs();
      pause = Math.max(IDLE_RECHECK_MS, idle - quiet);
      // A lease in flight is activity too.
      if (this.leasing !== null || quiet < idle) continue;
      try {
        return await this.giveBack(this.slice, now);
      } catch (err) {
        failure = err;
        pause = PURSE_IDLE_MS;
      }
    }
    if (failure !== null) throw failure;
  }

  /**
   * Idle (idleMs): everything the slice does not hold for answers in flight goes back, and with none in flight
   * the slice closes (the next busy moment leases a new one).
   */
  private async giveBack(s: LocalSlice, now: number): Promise<void> {
    this.giveBackFree(s);
    const close = this.holds.size === 0;
    s.seq++;
    // Only this slice: a give-back sent again (below) may find a newer one leased meanwhile.
    if (close && this.slice === s) this.slice = null;
    const call = this.init
      .account()
      .lease({ sliceId: s.id, seq: s.seq, report: this.report(s), want: NOTHING, need: null, close }, now);
    this.track(call, now);
    let reply: LeaseReply;
    try {
      reply = await call;
    } catch (err) {
      // Kept, so the next idle moment reports it again (the figures are cumulative).
      this.slice ??= s;
      throw err;
    }
    // The account granted more than this purse heard of (a lease whose reply was lost): that goes back too.
    if (reply.ok && exceeds(reply.slice.granted, s.granted)) {
      s.granted = maxFigures(s.granted, reply.slice.granted);
      await this.giveBack(s, now);
    }
  }
}

const exceeds = (a: Figures, b: Figures) => a.amount > b.amount || a.requests > b.requests || a.tokens > b.tokens;

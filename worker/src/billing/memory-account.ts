// A key's account in memory, by the same pure rules as the KeyAccount Durable Object (reservation.ts, slices.ts):
// what the purse's tests and the load model run many isolates' purses against.
import { fullBucket, perMinute, reconcile, refund, type Bucket } from "../limits/token-bucket.js";
import type { SliceAccount } from "./key-purse.js";
import type { KeyLimits, Reservation, ReserveResult } from "./records.js";
import { decideReserve, RESERVATION_TTL_MS, type AccountState, type Hold } from "./reservation.js";
import {
  applyReport,
  checkLease,
  decideGrant,
  extendSlice,
  lapsesAt,
  newSlice,
  NOTHING,
  outstanding,
  type LeaseReply,
  type LeaseRequest,
  type Slice,
} from "./slices.js";

/** What recording an answer needs of it here. */
export interface Charge {
  request_id: string;
  cost: number;
  total_tokens: number;
  slice_id: string | null;
}

const bucketFor = (limit: number | null, now: number): Bucket =>
  limit === null ? { level: 0, at: now } : fullBucket(perMinute(limit), now);

export class MemoryAccount implements SliceAccount {
  spent = 0;
  private readonly reservations = new Map<string, Hold & { expires: number }>();
  private readonly slices = new Map<string, Slice>();
  private requests: Bucket;
  private tokens: Bucket;
  readonly calls = { reserve: 0, lease: 0, release: 0 };

  constructor(
    readonly limits: KeyLimits,
    now: number,
  ) {
    this.requests = bucketFor(limits.rpm, now);
    this.tokens = bucketFor(limits.tpm, now);
  }

  /** Spent, plus what reservations and slices hold: never above the budget. */
  committed(now: number): number {
    return this.spent + this.reserved(now);
  }

  reserved(now: number): number {
    let n = 0;
    for (const r of this.reservations.values()) if (r.expires > now) n += r.amount;
    for (const s of this.slices.values()) n += outstanding(s, now);
    return n;
  }

  state(now: number): AccountState {
    const { limits, spent, requests, tokens } = this;
    return { limits, spent, reserved: this.reserved(now), requests, tokens };
  }

  async reserve(r: Reservation, now: number): Promise<ReserveResult> {
    this.calls.reserve++;
    this.sweep(now);
    const d = decideReserve(this.state(now), r, this.reservations.get(r.request_id) ?? null, now);
    if (!d.ok) return d.result;
    this.requests = d.requests;
    this.tokens = d.tokens;
    this.reservations.set(r.request_id, { ...d.hold, expires: now + RESERVATION_TTL_MS });
    return d.result;
  }

  async release(ids: string[], now: number): Promise<void> {
    this.calls.release++;
    for (const id of ids) {
      const held = this.reservations.get(id);
      this.reservations.delete(id);
      if (held && this.limits.tpm !== null)
        this.tokens = refund(this.tokens, perMinute(this.limits.tpm), held.tokens, now);
    }
  }

  async lease(l: LeaseRequest, now: number): Promise<LeaseReply> {
    this.calls.lease++;
    checkLease(l);
    this.sweep(now);
    const prior = this.slices.get(l.sliceId) ?? newSlice(l.sliceId, now);
    const reported = applyReport(this.state(now), prior, l.report, now);
    this.requests = reported.requests;
    this.tokens = reported.tokens;
    let slice = reported.slice;
    if (l.seq > prior.seq && l.close) slice = extendSlice(slice, NOTHING, l.seq, true, now);
    this.slices.set(slice.id, slice);
    if (l.seq <= prior.seq || l.close) return { ok: true, slice, headers: {} };
    const d = decideGrant(this.state(now), l.want, l.need, now);
    if (!d.ok) {
      this.slices.set(slice.id, { ...slice, seq: l.seq });
      return { ok: false, refusal: d.refusal };
    }
    this.requests = d.requests;
    this.tokens = d.tokens;
    slice = extendSlice(slice, d.grant, l.seq, false, now);
    this.slices.set(slice.id, slice);
    return { ok: true, slice, headers: d.headers };
  }

  record(c: Charge, now: number): void {
    this.spent += c.cost;
    const slice = c.slice_id === null ? undefined : this.slices.get(c.slice_id);
    if (slice) this.slices.set(slice.id, { ...slice, recorded: slice.recorded + c.cost });
    if (c.slice_id !== null) return;
    const held = this.reservations.get(c.request_id);
    this.reservations.delete(c.request_id);
    if (held && this.limits.tpm !== null)
      this.tokens = reconcile(this.tokens, perMinute(this.limits.tpm), held.tokens, c.total_tokens, now);
  }

  private sweep(now: number): void {
    for (const [id, r] of this.reservations) if (r.expires <= now) this.reservations.delete(id);
    for (const [id, s] of this.slices) if (lapsesAt(s) <= now) this.slices.delete(id);
  }
}

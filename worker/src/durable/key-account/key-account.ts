// One API key's account: limits (budget, requests and tokens per minute), reservations held by requests in flight,
// slices lent to isolates (billing/slices.ts), usage rows and daily roll-ups, and an outbox of billable receipts for
// the nodes' earnings shards (for rows recorded directly; the admission cells send their rows' earnings themselves).
// One serialising owner per key, so a budget can't leak under concurrency: the request path reserves the worst case
// before dispatch (or leases a slice), the actual cost is recorded after, and a failed request releases its hold.
import { DurableObject } from "cloudflare:workers";
import { outboxRetryDelay } from "../../billing/outbox-backoff.js";
import type { KeyLimits, Reservation, ReserveResult, UsageEntry } from "../../billing/records.js";
import { decideReserve, RESERVATION_TTL_MS, type AccountState, type Hold } from "../../billing/reservation.js";
import { rateLimitHeaders } from "../../billing/rate-limit-headers.js";
import {
  applyReport,
  checkLease,
  decideGrant,
  extendSlice,
  newSlice,
  NOTHING,
  type LeaseReply,
  type LeaseRequest,
  type Slice,
} from "../../billing/slices.js";
import { DAY_MS, retentionDays, rowsKeptSince } from "../../billing/retention.js";
import type { UsageAnswer, UsageQuery } from "../../billing/usage-report.js";
import { earningOf } from "../../billing/earning.js";
import { bigFromSql } from "../../lib/exact-sum.js";
import { addSpent, checkUsageEntry } from "../../billing/usage-entry-check.js";
import { perMinute, reconcile, refund, resize, type Bucket } from "../../limits/token-bucket.js";
import { migrate } from "../migrations.js";
import { earningsShard, earningsShards } from "../names.js";
import { acknowledge, outboxByShard, outboxSize, queueEarning } from "./outbox.js";
import { hasRows, purgeRows, recordRow } from "./rows.js";
import { ACCOUNT_MIGRATIONS } from "./schema.js";
import { chargeSlice, readSlice, slicesHeld, sweepSlices, writeSlice } from "./slices.js";
import { usageAnswer } from "./usage.js";

/** A key's limits, what it has spent (micro-units, over its life) and what requests in flight and slices hold. */
export interface AccountView extends KeyLimits {
  spent: number;
  reserved: number;
}

/** The account after a change of its limits; `version` orders changes (the key's copy keeps the latest). */
export interface ConfiguredView extends AccountView {
  version: number;
}

/** Who sends a recorded row's earning to its shard: the account's outbox ("queue"), or the caller ("skip"). */
export interface RecordOptions {
  earnings: "queue" | "skip";
}

type AccountRow = {
  budget: number | null;
  rpm: number | null;
  tpm: number | null;
  spent: number;
  rpm_level: number;
  rpm_at: number;
  tpm_level: number;
  tpm_at: number;
  outbox_failures: number;
};

/** A row's limits and rate buckets, as the pure rules (reservation.ts, slices.ts) and the rate-limit headers take them. */
function limitsOf(row: AccountRow): Pick<AccountState, "limits" | "requests" | "tokens"> {
  return {
    limits: { budget: row.budget, rpm: row.rpm, tpm: row.tpm },
    requests: { level: row.rpm_level, at: row.rpm_at },
    tokens: { level: row.tpm_level, at: row.tpm_at },
  };
}

/** If recording crashes before the push, the alarm sends the queued receipts this soon. */
const OUTBOX_SAFETY_MS = 30_000;
const OUTBOX_BATCH = 500;
const PURGE_BATCH = 10_000;

export class KeyAccount extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** The one push of the outbox in progress; later records join it (it reads the outbox until empty). */
  private flushing: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, ACCOUNT_MIGRATIONS);
  }

  /** Sets the given limits (null clears one; absent ones stay). A new rate limit starts with a full bucket. */
  configure(limits: Partial<KeyLimits>, now: number): ConfiguredView {
    const version = this.ctx.storage.transactionSync(() => {
      const row = this.row();
      // `??` would not do: null (clear the limit) must win over the current value, and only absent means unchanged.
      const pick = <T>(given: T | undefined, current: T): T => (given === undefined ? current : given);
      const next: KeyLimits = {
        budget: pick(limits.budget, row.budget),
        rpm: pick(limits.rpm, row.rpm),
        tpm: pick(limits.tpm, row.tpm),
      };
      const rate = (limit: number | null) => (limit === null ? null : perMinute(limit));
      const requests = resize({ level: row.rpm_level, at: row.rpm_at }, rate(row.rpm), rate(next.rpm), now);
      const tokens = resize({ level: row.tpm_level, at: row.tpm_at }, rate(row.tpm), rate(next.tpm), now);
      this.writeBuckets(requests, tokens);
      return this.sql
        .exec<{ v: number }>(
          `UPDATE account SET budget = ?, rpm = ?, tpm = ?, limits_version = limits_version + 1
           RETURNING limits_version AS v`,
          next.budget,
          next.rpm,
          next.tpm,
        )
        .one().v;
    });
    return { ...this.view(now), version };
  }

  view(now: number): AccountView {
    const { budget, rpm, tpm, spent } = this.row();
    return { budget, rpm, tpm, spent, reserved: this.reserved(now) };
  }

  /**
   * Holds the worst case of one request, or says why not (taking nothing then). Reserving an id again raises its
   * reservation: only the increase is checked, and it counts as no new request.
   */
  reserve(r: Reservation, now: number): ReserveResult {
    // Money and tokens are whole and non-negative; anything else is a caller's bug, not a request to wave through.
    if (![r.amount, r.tokens].every((n) => Number.isSafeInteger(n) && n >= 0))
      throw new RangeError(`invalid reservation for ${r.request_id}`);
    return this.ctx.storage.transactionSync(() => {
      this.sweep(now);
      const held =
        this.sql
          .exec<Hold>("SELECT amount, tokens FROM reservations WHERE request_id = ?", r.request_id)
          .toArray()[0] ?? null;
      const decision = decideReserve(this.state(now), r, held, now);
      if (!decision.ok) return decision.result;
      this.writeBuckets(decision.requests, decision.tokens);
      this.sql.exec(
        `INSERT INTO reservations (request_id, amount, tokens, created, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (request_id) DO UPDATE SET amount = excluded.amount, tokens = excluded.tokens, expires_at = excluded.expires_at`,
        r.request_id,
        decision.hold.amount,
        decision.hold.tokens,
        now,
        now + RESERVATION_TTL_MS,
      );
      return decision.result;
    });
  }

  /**
   * One call from a holder of a slice (billing/slices.ts): applies its report (what it gives back, tokens it owes),
   * then grants what it needs and wants, at most a share of what is free (or refuses the request that asked, as
   * `reserve` would), or closes the slice. A retried call (seq not above the last) applies its report and grants
   * nothing more.
   */
  lease(l: LeaseRequest, now: number): LeaseReply {
    checkLease(l);
    return this.ctx.storage.transactionSync(() => {
      this.sweep(now);
      const prior = readSlice(this.sql, l.sliceId) ?? newSlice(l.sliceId, now);
      const reported = applyReport(this.state(now), prior, l.report, now);
      this.writeBuckets(reported.requests, reported.tokens);
      writeSlice(this.sql, reported.slice);
      // A retry grants nothing more; a close stops admissions (what answers in flight hold stays until charged).
      if (l.seq <= prior.seq) return this.leaseReply(reported.slice, now);
      if (l.close) {
        const closed = extendSlice(reported.slice, NOTHING, l.seq, true, now);
        writeSlice(this.sql, closed);
        return this.leaseReply(closed, now);
      }
      const decision = decideGrant(this.state(now), l.want, l.need, now);
      if (!decision.ok) {
        writeSlice(this.sql, { ...reported.slice, seq: l.seq });
        return { ok: false, refusal: decision.refusal };
      }
      this.writeBuckets(decision.requests, decision.tokens);
      const slice = extendSlice(reported.slice, decision.grant, l.seq, false, now);
      writeSlice(this.sql, slice);
      return this.leaseReply(slice, now);
    });
  }

  /**
   * Records answered requests, once each (a request id seen before is skipped, its charge not repeated): the row, its
   * charge, its day's roll-up, the end of its reservation (tokens held beyond what it used go back; tokens used beyond
   * what it held are taken too), and for a billable receipt an earning for the node. Returns how many were new; then
   * pushes the earnings.
   * An entry whose counts, money or times are not non-negative safe integers is a RangeError, and nothing is recorded.
   * `earnings: "skip"`: the caller (an admission cell's flush) sends the earnings itself; none are queued here.
   */
  async record(entries: UsageEntry[], now: number, opts: RecordOptions = { earnings: "queue" }): Promise<number> {
    // Before anything is written: a batch with one impossible figure is a bug upstream, not something to sum.
    for (const e of entries) checkUsageEntry(e);
    // Hashed before the transaction, which cannot await the runtime's (native) sha256.
    const earnings = opts.earnings === "skip" ? [] : await Promise.all(entries.map(earningOf));
    const alarm = await this.ctx.storage.getAlarm();
    let queued = false;
    const added = this.ctx.storage.transactionSync(() => {
      const row = this.row();
      // Read as text and kept in BigInt: a key without a budget spends for ever, past what a double holds exactly.
      let spent = bigFromSql(
        this.sql.exec<{ spent: string }>("SELECT CAST(spent AS TEXT) AS spent FROM account").one().spent,
      );
      let tokens: Bucket = { level: row.tpm_level, at: row.tpm_at };
      let count = 0;
      for (const [i, e] of entries.entries()) {
        // Only billable rows are charged, whatever a caller put in `cost`.
        const cost = e.billable ? e.cost : 0;
        if (!recordRow(this.sql, e, cost, e.billable ? e.node_amount : 0)) continue;
        count++;
        spent = addSpent(spent, cost);
        // Admitted from a slice: charged against it; its holder squares its tokens with the tpm bucket.
        if (e.slice_id) chargeSlice(this.sql, e.slice_id, cost);
        const held = e.slice_id ? null : this.takeReservation(e.request_id);
        if (held && row.tpm !== null) tokens = reconcile(tokens, perMinute(row.tpm), held.tokens, e.total_tokens, now);
        const earning = earnings[i];
        if (earning) {
          queueEarning(this.sql, earning, earningsShards(this.env));
          queued = true;
        }
      }
      // As text, which the INTEGER column stores as the exact int64 (a bound bigint is refused).
      this.sql.exec(
        "UPDATE account SET spent = ?, tpm_level = ?, tpm_at = ?",
        spent.toString(),
        tokens.level,
        tokens.at,
      );
      return count;
    });
    // Scheduled before any await, so it is written together with the rows: queued receipts are sent even if this
    // object dies before pushing them. Without receipts, the alarm is the daily purge of rows past the retention.
    const at = queued ? now + OUTBOX_SAFETY_MS : now + DAY_MS;
    if (alarm === null || alarm > at) await this.ctx.storage.setAlarm(at);
    if (queued) await this.flushOutbox(now);
    return added;
  }

  /** Failed requests: their reservations end and their tokens go back (the request still counted against rpm). */
  release(requestIds: string[], now: number): void {
    this.ctx.storage.transactionSync(() => {
      const row = this.row();
      let tokens: Bucket = { level: row.tpm_level, at: row.tpm_at };
      for (const id of requestIds) {
        const held = this.takeReservation(id);
        if (held && row.tpm !== null) tokens = refund(tokens, perMinute(row.tpm), held.tokens, now);
      }
      this.sql.exec("UPDATE account SET tpm_level = ?, tpm_at = ?", tokens.level, tokens.at);
    });
  }

  usage(query: UsageQuery): UsageAnswer {
    return usageAnswer(this.sql, query);
  }

  /** Retries the outbox and deletes usage rows past the retention (daily while there are rows). */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const purged = purgeRows(this.sql, rowsKeptSince(now, retentionDays(this.env.USAGE_RETENTION_DAYS)), PURGE_BATCH);
    await this.flushOutbox(now);
    if (purged === PURGE_BATCH) await this.armAlarm(now + 1_000);
    else if (hasRows(this.sql)) await this.armAlarm(now + DAY_MS);
  }

  private row(): AccountRow {
    return this.sql
      .exec<AccountRow>(
        "SELECT budget, rpm, tpm, spent, rpm_level, rpm_at, tpm_level, tpm_at, outbox_failures FROM account",
      )
      .one();
  }

  private state(now: number): AccountState {
    const row = this.row();
    return { ...limitsOf(row), spent: row.spent, reserved: this.reserved(now) };
  }

  /** Held by requests in flight and by the slices lent to isolates. */
  private reserved(now: number): number {
    const requests = this.sql
      .exec<{ n: number }>("SELECT COALESCE(SUM(amount), 0) AS n FROM reservations WHERE expires_at > ?", now)
      .one().n;
    return requests + slicesHeld(this.sql, now);
  }

  private sweep(now: number): void {
    this.sql.exec("DELETE FROM reservations WHERE expires_at <= ?", now);
    sweepSlices(this.sql, now);
  }

  private leaseReply(s: Slice, now: number): LeaseReply {
    const { limits, requests, tokens } = limitsOf(this.row());
    return {
      ok: true,
      slice: { id: s.id, granted: s.granted, returned: s.returned, until: s.until },
      headers: rateLimitHeaders(limits, requests, tokens, now),
    };
  }

  private writeBuckets(requests: Bucket, tokens: Bucket): void {
    this.sql.exec(
      "UPDATE account SET rpm_level = ?, rpm_at = ?, tpm_level = ?, tpm_at = ?",
      requests.level,
      requests.at,
      tokens.level,
      tokens.at,
    );
  }

  private takeReservation(requestId: string): Hold | null {
    return (
      this.sql
        .exec<Hold>("DELETE FROM reservations WHERE request_id = ? RETURNING amount, tokens", requestId)
        .toArray()[0] ?? null
    );
  }

  private async armAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  private flushOutbox(now: number): Promise<void> {
    this.flushing ??= this.drainOutbox(now).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /** Pushes queued earnings to their shards until none are left; on a failure, retries later from the alarm. */
  private async drainOutbox(now: number): Promise<void> {
    for (;;) {
      const byShard = outboxByShard(this.sql, OUTBOX_BATCH);
      if (byShard.size === 0) break;
      const pushes = await Promise.allSettled(
        [...byShard].map(async ([shard, earnings]) => {
          await earningsShard(this.env, shard).add(earnings, now);
          acknowledge(
            this.sql,
            earnings.map((e) => e.request_id),
          );
        }),
      );
      const failed = pushes.find((p) => p.status === "rejected");
      if (failed) {
        const failures = this.row().outbox_failures + 1;
        this.sql.exec("UPDATE account SET outbox_failures = ?", failures);
        console.error("pushing earnings failed; will retry", outboxSize(this.sql), "queued", String(failed.reason));
        await this.armAlarm(Date.now() + outboxRetryDelay(failures));
        return;
      }
    }
    this.sql.exec("UPDATE account SET outbox_failures = 0 WHERE outbox_failures <> 0");
  }
}

// An admission cell's usage write-ahead: the usage row of an answer rides on the release of its node's slot (one
// call the request path makes anyway) and is in this cell's SQLite before the release returns, so an isolate that
// dies afterwards loses nothing. The cell's alarm then flushes the rows: one record batch per key to the key's
// account, one batch of earnings per earnings shard, and hourly sums to the global roll-up. A row leaves only once
// all three acknowledged it; each destination is idempotent (accounts and shards on request id, the roll-up on this
// cell's batch number), so a batch retried after a lost reply is never counted twice.
import { earningOf } from "../../billing/earning.js";
import { outboxRetryDelay } from "../../billing/outbox-backoff.js";
import type { Earning, UsageEntry } from "../../billing/records.js";
import { rollupBatch } from "../../billing/rollup-sums.js";
import { checkUsageEntry } from "../../billing/usage-entry-check.js";
import { groupBy } from "../../lib/group-by.js";
import { earningsShard, earningsShardOf, earningsShards, keyAccount, usageRollup } from "../names.js";

/** A usage row handed over with its lease. `prompt`: its key has limits, so its account hears of it at once. */
export interface WalEntry {
  entry: UsageEntry;
  prompt: boolean;
}

export const DEFAULT_USAGE_FLUSH_MS = 1_000;
/** Rows sent to each destination per flush; a longer backlog is sent by the next flushes, one interval apart. */
const FLUSH_ROWS = 1_000;
/**
 * A flushed row is kept this long, so a release retried after its reply was lost (within a second or so) finds it and
 * adds nothing: without it, the roll-up, which counts batches rather than request ids, would count the row again.
 */
const FLUSHED_KEPT_MS = 10 * 60_000;

/** USAGE_FLUSH_MS: how often a cell flushes its rows (ms, 10 to 3,600,000); the default when absent or malformed. */
export function usageFlushMs(raw: string | undefined): number {
  const n = Number(raw ?? "");
  return Number.isInteger(n) && n >= 10 && n <= 3_600_000 ? n : DEFAULT_USAGE_FLUSH_MS;
}

type Stored = { request_id: string; entry: string };

/** Whether an account will take the row; if not, says so in the log (a bug upstream, not a retryable failure). */
function acceptable(entry: UsageEntry): boolean {
  try {
    for (const name of [entry.request_id, entry.key_id, entry.node_id, entry.model])
      if (typeof name !== "string" || name === "")
        throw new TypeError(`usage entry ${entry.request_id}: a name is missing`);
    checkUsageEntry(entry);
    return true;
  } catch (err) {
    console.error("usage row refused by the write-ahead, not stored", String(err));
    return false;
  }
}

const parse = (rows: Stored[]): UsageEntry[] => rows.map((r) => JSON.parse(r.entry) as UsageEntry);

export class UsageWal {
  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    /** This cell's name for the roll-up, which remembers the last batch number it heard from each cell. */
    private readonly cellName: string,
  ) {}

  /**
   * Stores the rows (a request id already here is kept as it was: a retried release); returns the prompt ones. A row
   * no account would accept (usage-entry-check.ts) is logged and left out: kept, it would be sent with its key's
   * batch at every flush and have the whole batch refused for ever, and fill the flush's window for every key.
   */
  write(rows: readonly WalEntry[]): UsageEntry[] {
    const prompt: UsageEntry[] = [];
    for (const { entry, prompt: promptly } of rows) {
      if (!acceptable(entry)) continue;
      // A row with no earning to send counts as sent to the earnings shards from the start.
      const noEarning = entry.billable && entry.receipt !== null ? 0 : 1;
      const inserted = this.sql
        .exec(
          `INSERT INTO usage_wal (request_id, key_id, created, entry, account_done, earnings_done, rollup_done)
           VALUES (?, ?, ?, ?, 0, ?, 0) ON CONFLICT (request_id) DO NOTHING RETURNING request_id`,
          entry.request_id,
          entry.key_id,
          entry.created,
          JSON.stringify(entry),
          noEarning,
        )
        .toArray();
      if (inserted.length > 0 && promptly) prompt.push(entry);
    }
    return prompt;
  }

  /** Rows not yet fully acknowledged. */
  pending(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM usage_wal WHERE flushed_at IS NULL").one().n;
  }

  /** Rows every destination acknowledged are marked flushed, and kept FLUSHED_KEPT_MS after that, then deleted. */
  private markFlushed(now: number): void {
    this.sql.exec(
      `UPDATE usage_wal SET flushed_at = ? WHERE flushed_at IS NULL AND account_done = 1 AND earnings_done = 1
         AND rollup_done = 1`,
      now,
    );
    this.sql.exec("DELETE FROM usage_wal WHERE flushed_at < ?", now - FLUSHED_KEPT_MS);
  }

  /** Sends rows of limited keys to their accounts now, so their reservations end with their answers. */
  async pushPrompt(entries: readonly UsageEntry[], now: number): Promise<void> {
    await this.recordAll(entries, now);
  }

  /**
   * One flush: every destination gets what it has not acknowledged, all at once. Returns when to flush next: null
   * when nothing is left, else after `intervalMs` (more to send) or a growing delay (a destination failed).
   */
  async flush(now: number, intervalMs: number): Promise<number | null> {
    const results = await Promise.allSettled([this.flushAccounts(now), this.flushEarnings(now), this.flushRollup(now)]);
    this.markFlushed(now);
    const failed = results.filter((r) => r.status === "rejected");
    if (failed.length > 0) {
      const failures = this.sql
        .exec<{ failures: number }>("UPDATE flush_state SET failures = failures + 1 RETURNING failures")
        .one().failures;
      console.error(
        "usage flush failed; will retry",
        this.pending(),
        "rows pending",
        failed.map((f) => String(f.reason)).join("; "),
      );
      return Math.max(intervalMs, outboxRetryDelay(failures));
    }
    this.sql.exec("UPDATE flush_state SET failures = 0 WHERE failures <> 0");
    if (this.pending() > 0) return intervalMs;
    // Nothing to send: wake once more only to let the kept rows go.
    return this.sql.exec("SELECT 1 FROM usage_wal LIMIT 1").toArray().length > 0 ? FLUSHED_KEPT_MS : null;
  }

  /**
   * Each key's oldest rows in turn (every key's first, then every key's second, ...), so a key whose account keeps
   * failing with a long backlog takes its share of the flush, not all of it: the oldest rows overall would be its
   * own at every flush, and no other key's row would be charged until its account came back.
   */
  private async flushAccounts(now: number): Promise<void> {
    const rows = this.sql
      .exec<Stored>(
        `SELECT request_id, entry FROM (
           SELECT request_id, entry, created, ROW_NUMBER() OVER (PARTITION BY key_id ORDER BY created) AS turn
           FROM usage_wal WHERE account_done = 0
         ) ORDER BY turn, created LIMIT ?`,
        FLUSH_ROWS,
      )
      .toArray();
    await this.recordAll(parse(rows), now);
  }

  /** One record call per key, each acknowledged on its own; throws if any failed (after the others settled). */
  private async recordAll(entries: readonly UsageEntry[], now: number): Promise<void> {
    const settled = await Promise.allSettled(
      [...groupBy(entries, (e) => e.key_id)].map(async ([keyId, rows]) => {
        await keyAccount(this.env, keyId).record(rows, now, { earnings: "skip" });
        this.done("account_done", rows);
      }),
    );
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
  }

  /** Each node's oldest rows in turn, as flushAccounts takes each key's: one failing shard cannot hold the others back. */
  private async flushEarnings(now: number): Promise<void> {
    const entries = parse(
      this.sql
        .exec<Stored>(
          `SELECT request_id, entry FROM (
             SELECT request_id, entry, created,
               ROW_NUMBER() OVER (PARTITION BY json_extract(entry, '$.node_id') ORDER BY created) AS turn
             FROM usage_wal WHERE earnings_done = 0
           ) ORDER BY turn, created LIMIT ?`,
          FLUSH_ROWS,
        )
        .toArray(),
    );
    const earnings: Earning[] = [];
    const owesNothing: UsageEntry[] = [];
    for (const [i, earning] of (await Promise.all(entries.map(earningOf))).entries()) {
      if (earning) earnings.push(earning);
      else if (entries[i]) owesNothing.push(entries[i]);
    }
    this.done("earnings_done", owesNothing);
    const shards = earningsShards(this.env);
    const settled = await Promise.allSettled(
      [...groupBy(earnings, (e) => earningsShardOf(e.node_id, shards))].map(async ([shard, batch]) => {
        await earningsShard(this.env, shard).add(batch, now);
        this.done("earnings_done", batch);
      }),
    );
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
  }

  /**
   * One batch to the roll-up. A batch sent and not acknowledged is sent again with the same number and the same rows
   * before any new one, so the roll-up, which adds each cell's batch numbers in order, counts it once.
   */
  private async flushRollup(now: number): Promise<void> {
    const seq = this.rollupSeq();
    if (seq === null) return;
    const rows = this.sql
      .exec<Stored>("SELECT request_id, entry FROM usage_wal WHERE rollup_done = 0 AND rollup_seq = ?", seq)
      .toArray();
    await usageRollup(this.env).add(this.cellName, seq, rollupBatch(parse(rows)), now);
    this.sql.exec("UPDATE usage_wal SET rollup_done = 1 WHERE rollup_seq = ?", seq);
  }

  /** The batch in flight, or a new one of the oldest rows not yet in any; null when there are none. */
  private rollupSeq(): number | null {
    const inFlight = this.sql
      .exec<{ seq: number }>(
        "SELECT rollup_seq AS seq FROM usage_wal WHERE rollup_done = 0 AND rollup_seq IS NOT NULL LIMIT 1",
      )
      .toArray()[0];
    if (inFlight) return inFlight.seq;
    const seq = this.sql.exec<{ seq: number }>("SELECT rollup_seq + 1 AS seq FROM flush_state").one().seq;
    this.sql.exec(
      `UPDATE usage_wal SET rollup_seq = ? WHERE request_id IN
         (SELECT request_id FROM usage_wal WHERE rollup_done = 0 AND rollup_seq IS NULL ORDER BY created LIMIT ?)`,
      seq,
      FLUSH_ROWS,
    );
    if (this.sql.exec<{ n: number }>("SELECT changes() AS n").one().n === 0) return null;
    this.sql.exec("UPDATE flush_state SET rollup_seq = ?", seq);
    return seq;
  }

  private done(column: "account_done" | "earnings_done", rows: readonly { request_id: string }[]): void {
    if (rows.length === 0) return;
    this.sql.exec(
      `UPDATE usage_wal SET ${column} = 1 WHERE request_id IN (SELECT value FROM json_each(?))`,
      JSON.stringify(rows.map((r) => r.request_id)),
    );
  }
}

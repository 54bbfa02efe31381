import { DurableObject } from "cloudflare:workers";
import { DAY_MS, retentionDays, rowsKeptSince, startOfDay } from "../../billing/retention.js";
import { ROLLUP_DIMENSIONS, type RollupBatch } from "../../billing/rollup-sums.js";
import { migrate } from "../migrations.js";
import { addRow, foldHours, readGroups, type RollupGroup, type RollupGrouping } from "./rollup-sql.js";
import { ROLLUP_MIGRATIONS } from "./schema.js";

/** After midnight UTC, when the day's fold runs (a little later, so the cells' last flushes of the day are in). */
const FOLD_AFTER_MIDNIGHT_MS = 5 * 60_000;

/**
 * Every key's usage, summed by the hour, for the admin report: hourly rows by key, by model and by node for as long
 * as usage rows are kept (USAGE_RETENTION_DAYS), daily rows before that (the alarm folds them once a day). Fed by the
 * admission cells' flushes, each a numbered batch: a cell sends its batches one at a time, in order, and again until
 * acknowledged, so a batch numbered at or below the last one heard from its cell was already added and is skipped.
 * Load: one call per cell per flush (ADMISSION_CELLS a second at most), and one per admin report.
 */
export class UsageRollup extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private foldArmed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, ROLLUP_MIGRATIONS);
  }

  /** Adds a cell's batch once; returns false for one already added (a retry after a lost reply). */
  async add(cell: string, seq: number, batch: RollupBatch, now: number): Promise<boolean> {
    const added = this.ctx.storage.transactionSync(() => {
      const last = this.sql.exec<{ seq: number }>("SELECT seq FROM cells WHERE cell = ?", cell).toArray()[0];
      if (last && last.seq >= seq) return false;
      // An hour already folded (a cell that flushes after days away) goes straight into its day's row.
      const foldedBefore = this.sql.exec<{ f: number }>("SELECT folded_before AS f FROM rollup_state").one().f;
      for (const dimension of ROLLUP_DIMENSIONS)
        for (const row of batch[dimension]) addRow(this.sql, dimension, row, row.hour < foldedBefore);
      this.sql.exec(
        "INSERT INTO cells (cell, seq) VALUES (?, ?) ON CONFLICT (cell) DO UPDATE SET seq = excluded.seq",
        cell,
        seq,
      );
      return true;
    });
    if (!this.foldArmed) {
      this.foldArmed = true;
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(nextFold(now));
    }
    return added;
  }

  /** Each group's sums over [from, to), which the caller made whole hours, or whole days before the retention. */
  usage(grouping: RollupGrouping, from: number, to: number): RollupGroup[] {
    return readGroups(this.sql, grouping, from, to);
  }

  /** Folds the hours past the retention into their days, then waits for the next day. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const before = rowsKeptSince(now, retentionDays(this.env.USAGE_RETENTION_DAYS));
    this.ctx.storage.transactionSync(() => {
      for (const dimension of ROLLUP_DIMENSIONS) foldHours(this.sql, dimension, before);
      this.sql.exec("UPDATE rollup_state SET folded_before = MAX(folded_before, ?)", before);
    });
    await this.ctx.storage.setAlarm(nextFold(now));
  }
}

function nextFold(now: number): number {
  return startOfDay(now) + DAY_MS + FOLD_AFTER_MIDNIGHT_MS;
}

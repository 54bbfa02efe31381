// A key account's outstanding slices (billing/slices.ts) in SQLite: they survive the object's restart, so what a
// holder was lent stays counted as reserved until it is returned, charged, or lapses.
import { lapsesAt, type Slice } from "../../billing/slices.js";

type SliceRow = {
  id: string;
  seq: number;
  granted_amount: number;
  granted_requests: number;
  granted_tokens: number;
  returned_amount: number;
  returned_requests: number;
  returned_tokens: number;
  debt_tokens: number;
  recorded: number;
  until: number;
};

export const SLICES_TABLE = `
CREATE TABLE IF NOT EXISTS slices (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  granted_amount INTEGER NOT NULL,
  granted_requests INTEGER NOT NULL,
  granted_tokens INTEGER NOT NULL,
  returned_amount INTEGER NOT NULL,
  returned_requests INTEGER NOT NULL,
  returned_tokens INTEGER NOT NULL,
  debt_tokens INTEGER NOT NULL,
  recorded INTEGER NOT NULL,
  until INTEGER NOT NULL,
  lapses_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS slices_lapses ON slices (lapses_at);
`;

const fromRow = (r: SliceRow): Slice => ({
  id: r.id,
  seq: r.seq,
  granted: { amount: r.granted_amount, requests: r.granted_requests, tokens: r.granted_tokens },
  returned: { amount: r.returned_amount, requests: r.returned_requests, tokens: r.returned_tokens },
  debtTokens: r.debt_tokens,
  recorded: r.recorded,
  until: r.until,
});

export function readSlice(sql: SqlStorage, id: string): Slice | null {
  const row = sql.exec<SliceRow>("SELECT * FROM slices WHERE id = ?", id).toArray()[0];
  return row ? fromRow(row) : null;
}

export function writeSlice(sql: SqlStorage, s: Slice): void {
  sql.exec(
    `INSERT INTO slices (id, seq, granted_amount, granted_requests, granted_tokens, returned_amount, returned_requests,
       returned_tokens, debt_tokens, recorded, until, lapses_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, granted_amount = excluded.granted_amount,
       granted_requests = excluded.granted_requests, granted_tokens = excluded.granted_tokens,
       returned_amount = excluded.returned_amount, returned_requests = excluded.returned_requests,
       returned_tokens = excluded.returned_tokens, debt_tokens = excluded.debt_tokens, recorded = excluded.recorded,
       until = excluded.until, lapses_at = excluded.lapses_at`,
    s.id,
    s.seq,
    s.granted.amount,
    s.granted.requests,
    s.granted.tokens,
    s.returned.amount,
    s.returned.requests,
    s.returned.tokens,
    s.debtTokens,
    s.recorded,
    s.until,
    lapsesAt(s),
  );
}

/** Micro-units every live slice still holds (the SQL form of slices.ts's outstanding()). */
export function slicesHeld(sql: SqlStorage, now: number): number {
  return sql
    .exec<{ n: number }>(
      `SELECT COALESCE(SUM(MAX(0, granted_amount - returned_amount - recorded)), 0) AS n FROM slices
       WHERE lapses_at > ?`,
      now,
    )
    .one().n;
}

/** Charges an answer's cost against the slice it was admitted from (no-op once the slice lapsed and was swept). */
export function chargeSlice(sql: SqlStorage, id: string, cost: number): void {
  sql.exec("UPDATE slices SET recorded = recorded + ? WHERE id = ?", cost, id);
}

/** Lapsed slices hold nothing any more: their rows go. */
export function sweepSlices(sql: SqlStorage, now: number): void {
  sql.exec("DELETE FROM slices WHERE lapses_at <= ?", now);
}

import { DurableObject } from "cloudflare:workers";
import { randomNonce, type SettlementStatement } from "@meshgate/schemas";
import { migrate } from "../migrations.js";
import { LEGACY_EARNINGS_SHARDS } from "../names.js";
import { SETTLEMENTS_MIGRATIONS } from "./schema.js";

/**
 * A settlement whose period overlaps one asked for. A closing one is a close that failed part way (or is under way);
 * an aborting one is an abort that has not released every shard yet.
 */
export interface Overlap {
  id: string;
  status: "closing" | "closed" | "aborting";
  from: number;
  to: number;
}

/**
 * Where a close finds its receipts: `shards`, the count it gathers each node's receipts under (its nodes' proofs are
 * in those shards), and `read`, the largest count ever used (every shard a receipt may sit in).
 */
export interface ShardLayout {
  shards: number;
  read: number;
}

/** A period reserved for closing, or the settlement that already covers part of it. */
export type BeginResult =
  | { ok: true; id: string; created: number; layout: ShardLayout }
  | { ok: false; conflict: Overlap };

/** An abort begun (or begun before: it is retried), or why not. */
export type AbortResult =
  | { ok: true; from: number; to: number; read: number }
  | { ok: false; status: "unknown" | "closed" };

export interface StatementPage {
  data: SettlementStatement[];
  has_more: boolean;
}

type Row = {
  id: string;
  from_ms: number;
  to_ms: number;
  created: number;
  status: string;
  statement: string | null;
  shards: number;
};

/**
 * Every settlement statement. One object, so reserving a period and checking it against every other is one serial
 * step: periods never overlap, and a receipt can be paid at most once. A statement is "closing" from begin() until
 * finish() stores it signed ("closed"); a closed statement never changes. A close that failed part way can be
 * aborted instead: "aborting" (finish() refuses it) until every shard released its receipts, then "aborted", which
 * no longer holds its period.
 */
export class Settlements extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, SETTLEMENTS_MIGRATIONS);
  }

  /**
   * Reserves [from, to). A close of exactly this period that began and never finished is resumed (same id and time, so
   * the retry signs the same statement); any other overlap, closing, aborting or closed, is refused, saying which it
   * is. `shards`: the earnings shard count now, which a new close uses (a resumed one keeps its own).
   */
  begin(from: number, to: number, now: number, shards = LEGACY_EARNINGS_SHARDS): BeginResult {
    // Periods that hold theirs never overlap, so the latest to start before `to` is the only one that can reach past
    // `from`.
    const overlap = this.sql
      .exec<Row>(
        "SELECT * FROM settlements WHERE from_ms < ? AND status <> 'aborted' ORDER BY from_ms DESC LIMIT 1",
        to,
      )
      .toArray()[0];
    if (overlap && overlap.to_ms > from) {
      const resumable = overlap.status === "closing" && overlap.from_ms === from && overlap.to_ms === to;
      if (resumable) return { ok: true, id: overlap.id, created: overlap.created, layout: this.layout(overlap.shards) };
      const status = overlap.status === "closing" || overlap.status === "aborting" ? overlap.status : "closed";
      return { ok: false, conflict: { id: overlap.id, status, from: overlap.from_ms, to: overlap.to_ms } };
    }
    const id = `stl_${randomNonce(12)}`;
    this.sql.exec(
      "INSERT INTO settlements (id, from_ms, to_ms, created, status, shards) VALUES (?, ?, ?, ?, 'closing', ?)",
      id,
      from,
      to,
      now,
      shards,
    );
    this.sql.exec("UPDATE shard_layout SET largest = MAX(largest, ?)", shards);
    return { ok: true, id, created: now, layout: this.layout(shards) };
  }

  /** The shard count a closed statement gathered its receipts under (where its proofs are); null if not closed. */
  shardsOf(id: string): number | null {
    return (
      this.sql
        .exec<{ shards: number }>("SELECT shards FROM settlements WHERE id = ? AND status = 'closed'", id)
        .toArray()[0]?.shards ?? null
    );
  }

  private layout(shards: number): ShardLayout {
    const largest = this.sql.exec<{ largest: number }>("SELECT largest FROM shard_layout").one().largest;
    return { shards, read: Math.max(largest, shards) };
  }

  /**
   * Stores the signed statement of a begun close; returns what is stored (the first one, if it was already closed),
   * or null when the close was aborted meanwhile (or never begun).
   */
  finish(statement: SettlementStatement): SettlementStatement | null {
    this.sql.exec(
      "UPDATE settlements SET status = 'closed', statement = ? WHERE id = ? AND status = 'closing'",
      JSON.stringify(statement),
      statement.id,
    );
    return this.get(statement.id);
  }

  /**
   * Begins aborting a close that has not finished: from now on finish() refuses it, so its statement is never
   * signed while shards release its receipts. Again for one aborting or aborted (a retry). Refused for one closed.
   */
  abort(id: string): AbortResult {
    const row = this.sql.exec<Row>("SELECT * FROM settlements WHERE id = ?", id).toArray()[0];
    if (!row) return { ok: false, status: "unknown" };
    if (row.status === "closed") return { ok: false, status: "closed" };
    if (row.status === "closing") this.sql.exec("UPDATE settlements SET status = 'aborting' WHERE id = ?", id);
    return { ok: true, from: row.from_ms, to: row.to_ms, read: this.layout(row.shards).read };
  }

  /** Every shard released the aborted close's receipts: its period is open again. */
  aborted(id: string): void {
    this.sql.exec("UPDATE settlements SET status = 'aborted' WHERE id = ? AND status = 'aborting'", id);
  }

  /** A closed statement; null for an unknown id or one still closing. */
  get(id: string): SettlementStatement | null {
    const row = this.sql
      .exec<Pick<Row, "statement">>("SELECT statement FROM settlements WHERE id = ? AND status = 'closed'", id)
      .toArray()[0];
    return row?.statement ? (JSON.parse(row.statement) as SettlementStatement) : null;
  }

  /** Closed statements, newest first, after the one with id `after`; null when `after` names no closed statement. */
  list(limit: number, after: string | null): StatementPage | null {
    let rows: Row[];
    if (after === null) {
      rows = this.sql
        .exec<Row>(
          "SELECT * FROM settlements WHERE status = 'closed' ORDER BY created DESC, id DESC LIMIT ?",
          limit + 1,
        )
        .toArray();
    } else {
      const cursor = this.sql
        .exec<Row>("SELECT * FROM settlements WHERE id = ? AND status = 'closed'", after)
        .toArray()[0];
      if (!cursor) return null;
      rows = this.sql
        .exec<Row>(
          "SELECT * FROM settlements WHERE status = 'closed' AND (created < ? OR (created = ? AND id < ?)) ORDER BY " +
            "created DESC, id DESC LIMIT ?",
          cursor.created,
          cursor.created,
          cursor.id,
          limit + 1,
        )
        .toArray();
    }
    const data = rows
      .slice(0, limit)
      .flatMap((r) => (r.statement ? [JSON.parse(r.statement) as SettlementStatement] : []));
    return { data, has_more: rows.length > limit };
  }
}

import { DurableObject } from "cloudflare:workers";

/** One metered request; counts come from the node's `usage`. No prompt or completion text, ever. */
export interface UsageRecord {
  request_id: string;
  created: number;
  key_id: string;
  node_id: string;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  latency_ms: number;
  status: number;
  streamed: boolean;
}

export type UsageTotals = {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
};

type UsageRow = Omit<UsageRecord, "streamed"> & { streamed: number };

/** Usage rows for one API key. Inserting the same request id twice keeps the first: recording is idempotent. */
export class UsageLedger extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS usage (
      request_id TEXT PRIMARY KEY, created INTEGER NOT NULL, key_id TEXT NOT NULL, node_id TEXT NOT NULL, model TEXT NOT NULL,
      prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL,
      latency_ms INTEGER NOT NULL, status INTEGER NOT NULL, streamed INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS usage_created ON usage (created)`);
  }

  /** Returns how many rows were new. */
  record(rows: UsageRecord[]): number {
    let inserted = 0;
    for (const r of rows) {
      inserted += this.sql.exec(
        `INSERT OR IGNORE INTO usage (request_id, created, key_id, node_id, model, prompt_tokens, completion_tokens, total_tokens, latency_ms, status, streamed)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        r.request_id, r.created, r.key_id, r.node_id, r.model, r.prompt_tokens, r.completion_tokens, r.total_tokens,
        Math.round(r.latency_ms), r.status, r.streamed ? 1 : 0,
      ).rowsWritten > 0 ? 1 : 0;
    }
    return inserted;
  }

  /** Totals over [from, to) and the newest `limit` rows of that range. */
  report(from: number, to: number, limit: number): { totals: UsageTotals; rows: UsageRecord[]; has_more: boolean } {
    const totals = this.sql.exec<UsageTotals>(
      `SELECT COUNT(*) AS requests, COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,
              COALESCE(SUM(completion_tokens), 0) AS completion_tokens, COALESCE(SUM(total_tokens), 0) AS total_tokens
       FROM usage WHERE created >= ? AND created < ?`,
      from, to,
    ).one();
    const rows = this.sql
      .exec<UsageRow>("SELECT * FROM usage WHERE created >= ? AND created < ? ORDER BY created DESC, request_id LIMIT ?", from, to, limit)
      .toArray()
      .map((r) => ({ ...r, streamed: r.streamed === 1 }));
    return { totals, rows, has_more: totals.requests > rows.length };
  }
}

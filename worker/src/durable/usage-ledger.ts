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

  /** Returns how many rows were new. One statement for the whole batch: the rows travel as one JSON parameter. */
  record(rows: UsageRecord[]): number {
    if (rows.length === 0) return 0;
    this.sql.exec(
      `INSERT OR IGNORE INTO usage (request_id, created, key_id, node_id, model, prompt_tokens, completion_tokens, total_tokens, latency_ms, status, streamed)
       SELECT value ->> '$.request_id', value ->> '$.created', value ->> '$.key_id', value ->> '$.node_id', value ->> '$.model',
              value ->> '$.prompt_tokens', value ->> '$.completion_tokens', value ->> '$.total_tokens',
              CAST(ROUND(value ->> '$.latency_ms') AS INTEGER), value ->> '$.status', CASE WHEN value ->> '$.streamed' THEN 1 ELSE 0 END
       FROM json_each(?)`,
      JSON.stringify(rows),
    );
    return this.sql.exec<{ n: number }>("SELECT changes() AS n").one().n;
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

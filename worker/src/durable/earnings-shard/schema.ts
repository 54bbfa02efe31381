// An earnings shard's tables and their upgrades.
import type { Migration } from "../migrations.js";

/**
 * Step 1, for a fresh shard or one from before versions (frozen, like every deployed step). `earnings.added` (when
 * the shard stored a receipt) is written but read by nothing; deployed tables declare it NOT NULL without a default,
 * so it stays (dropping it would take a migration of every shard for no gain).
 */
function legacyShard(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS earnings (
    request_id TEXT PRIMARY KEY, node_id TEXT NOT NULL, receipt TEXT NOT NULL, leaf TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, amount INTEGER NOT NULL,
    created INTEGER NOT NULL,
    added INTEGER NOT NULL, settlement_id TEXT, late INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS earnings_open ON earnings (settlement_id, created);
  CREATE INDEX IF NOT EXISTS earnings_settled ON earnings (settlement_id, node_id, leaf);
  CREATE TABLE IF NOT EXISTS closes (settlement_id TEXT PRIMARY KEY, from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS closes_from ON closes (from_ms);
  CREATE TABLE IF NOT EXISTS settled_nodes (
    settlement_id TEXT NOT NULL, node_id TEXT NOT NULL, receipts INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL, amount INTEGER NOT NULL, root TEXT NOT NULL, blocks TEXT NOT NULL,
    firsts TEXT NOT NULL,
    PRIMARY KEY (settlement_id, node_id)
  );
  CREATE TABLE IF NOT EXISTS aborted (settlement_id TEXT PRIMARY KEY)`);
}

export const EARNINGS_MIGRATIONS: readonly Migration[] = [legacyShard];

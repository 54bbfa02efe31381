// The settlements' table and its upgrades.
import type { Migration } from "../migrations.js";

/** Step 1, for a fresh object or one from before versions (frozen, like every deployed step). */
function legacySettlements(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS settlements (
    id TEXT PRIMARY KEY, from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL, created INTEGER NOT NULL,
    status TEXT NOT NULL, statement TEXT
  );
  CREATE INDEX IF NOT EXISTS settlements_from ON settlements (from_ms);
  CREATE INDEX IF NOT EXISTS settlements_listed ON settlements (status, created, id)`);
}

/**
 * Step 2: the earnings shard count each close used (where its nodes' receipts were gathered, so where its proofs are;
 * closes before this used 16), and the largest count ever used (every shard a receipt may sit in).
 */
function shardLayout(sql: SqlStorage): void {
  sql.exec(`ALTER TABLE settlements ADD COLUMN shards INTEGER NOT NULL DEFAULT 16;
  CREATE TABLE shard_layout (id INTEGER PRIMARY KEY CHECK (id = 1), largest INTEGER NOT NULL);
  INSERT INTO shard_layout (id, largest) VALUES (1, 16)`);
}

export const SETTLEMENTS_MIGRATIONS: readonly Migration[] = [legacySettlements, shardLayout];

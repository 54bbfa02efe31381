// An admission cell's tables and their upgrades.
import type { Migration } from "../migrations.js";

/** Step 1: the leases granted and not yet given back (kept on disk so a restarted cell still counts them). */
function leases(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE leases (id TEXT PRIMARY KEY, node_id TEXT NOT NULL, expires_at INTEGER NOT NULL)`);
}

/**
 * Step 2: the usage write-ahead (see usage-wal.ts). A row is the whole UsageEntry as JSON (fields added later pass
 * through), with which of its three destinations acknowledged it; `rollup_seq` is the roll-up batch it was sent in;
 * `flushed_at`, once all three did (the row is kept a while after, so a late retry of its release adds nothing).
 * `flush_state.rollup_seq` is the last batch number this cell gave out.
 */
function usageWal(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE usage_wal (
    request_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, created INTEGER NOT NULL, entry TEXT NOT NULL,
    account_done INTEGER NOT NULL, earnings_done INTEGER NOT NULL, rollup_done INTEGER NOT NULL, rollup_seq INTEGER,
    flushed_at INTEGER
  );
  CREATE INDEX usage_wal_flushed ON usage_wal (flushed_at);
  CREATE INDEX usage_wal_account ON usage_wal (account_done, created);
  CREATE INDEX usage_wal_earnings ON usage_wal (earnings_done, created);
  CREATE INDEX usage_wal_rollup ON usage_wal (rollup_done, rollup_seq, created);
  CREATE TABLE flush_state (id INTEGER PRIMARY KEY CHECK (id = 1), rollup_seq INTEGER NOT NULL, failures INTEGER NOT NULL);
  INSERT INTO flush_state (id, rollup_seq, failures) VALUES (1, 0, 0)`);
}

export const CELL_MIGRATIONS: readonly Migration[] = [leases, usageWal];

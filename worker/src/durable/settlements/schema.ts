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

export const SETTLEMENTS_MIGRATIONS: readonly Migration[] = [legacySettlements];

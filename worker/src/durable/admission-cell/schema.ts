// An admission cell's tables and their upgrades.
import type { Migration } from "../migrations.js";

/** Step 1: the leases granted and not yet given back (kept on disk so a restarted cell still counts them). */
function leases(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE leases (id TEXT PRIMARY KEY, node_id TEXT NOT NULL, expires_at INTEGER NOT NULL)`);
}

export const CELL_MIGRATIONS: readonly Migration[] = [leases];

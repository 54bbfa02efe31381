// The API keys' table and its upgrades.
import { addMissingColumns, type AddedColumn, type Migration } from "../migrations.js";

/** Added after keys were first deployed: a copy of the limits the key's account enforces (null: none). */
const LIMIT_COLUMNS: readonly AddedColumn[] = ["budget", "rpm", "tpm"].map((column) => ({
  column,
  definition: `${column} INTEGER`,
}));

/** Step 1, for a fresh store or one from before versions (frozen, like every deployed step). */
function legacyKeys(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created INTEGER NOT NULL, revoked INTEGER,
    budget INTEGER, rpm INTEGER, tpm INTEGER
  )`);
  addMissingColumns(sql, "api_keys", LIMIT_COLUMNS);
}

export const API_KEYS_MIGRATIONS: readonly Migration[] = [legacyKeys];

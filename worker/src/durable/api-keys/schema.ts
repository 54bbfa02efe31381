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

/**
 * Step 2, the sharded index. In a shard (keys:<n>): pointers from legacy tokens' hashes to their ids (in the shard the
 * hash's first byte picks). In the index's root (the legacy object, `keys`): which shards hold keys (so a listing asks
 * only those), and whether the legacy keys have all moved.
 */
function keyIndex(sql: SqlStorage): void {
  sql.exec("CREATE TABLE legacy_hashes (hash TEXT PRIMARY KEY, id TEXT NOT NULL)");
  sql.exec("CREATE TABLE occupied_shards (shard INTEGER PRIMARY KEY)");
  sql.exec("CREATE TABLE index_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
}

/** Step 3: the account's limits version the copy was last set from (0: never; see ApiKeys.setLimits). */
function limitsVersion(sql: SqlStorage): void {
  sql.exec("ALTER TABLE api_keys ADD COLUMN limits_version INTEGER NOT NULL DEFAULT 0");
}

export const API_KEYS_MIGRATIONS: readonly Migration[] = [legacyKeys, keyIndex, limitsVersion];

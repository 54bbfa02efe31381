// The registry's tables and their upgrades. Node ids never change; a node's key may (retired keys are kept so they
// stay refused).
import { addMissingColumns, hasColumn, hasTable, type AddedColumn, type Migration } from "../migrations.js";

/** The tables as the registry created them before versioned upgrades; frozen, like every deployed step. */
const LEGACY_SCHEMA = `
CREATE TABLE IF NOT EXISTS nodes (
  id TEXT PRIMARY KEY,
  keyid TEXT NOT NULL UNIQUE,
  public_key TEXT NOT NULL,
  url TEXT NOT NULL,
  verified_url TEXT,
  challenge_at INTEGER,
  challenges INTEGER NOT NULL DEFAULT 0,
  models TEXT NOT NULL,
  capacity INTEGER NOT NULL,
  in_flight INTEGER NOT NULL,
  last_heartbeat INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  registered INTEGER NOT NULL,
  rep_s REAL NOT NULL DEFAULT 0,
  rep_f REAL NOT NULL DEFAULT 0,
  rep_at INTEGER NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  banned_at INTEGER,
  ban_reason TEXT,
  hb_tokens REAL NOT NULL,
  hb_at INTEGER NOT NULL,
  routing TEXT NOT NULL DEFAULT '{}',
  ejected_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS nodes_last_heartbeat ON nodes (last_heartbeat);
CREATE TABLE IF NOT EXISTS banned_origins (origin TEXT PRIMARY KEY, node_id TEXT NOT NULL, banned_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS retired_keys (keyid TEXT PRIMARY KEY, node_id TEXT NOT NULL, retired_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (id TEXT PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS registration_sources (source TEXT PRIMARY KEY, tokens REAL NOT NULL,
at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nonces_expires ON nonces (expires);
CREATE TABLE IF NOT EXISTS probes (
  node_id TEXT PRIMARY KEY,
  reachable INTEGER NOT NULL,
  rtt_ms REAL,
  at INTEGER NOT NULL,
  failures INTEGER NOT NULL DEFAULT 0
);
`;

/** Columns added after a registry was first deployed; their rows keep everything else. */
const ADDED_COLUMNS: readonly AddedColumn[] = [
  // Challenges back off per node.
  { column: "challenges", definition: "challenges INTEGER NOT NULL DEFAULT 0" },
  // Routing state beside the reputation: outlier ejection, learned capacity, per-model latency and throughput (JSON).
  { column: "routing", definition: "routing TEXT NOT NULL DEFAULT '{}'" },
  { column: "ejected_until", definition: "ejected_until INTEGER NOT NULL DEFAULT 0" },
  // The URL's host and port (new-identities.ts), so the identities proven at one server are counted by an index.
  { column: "origin", definition: "origin TEXT" },
];

/**
 * Step 1, for a fresh registry or one from before versions. A `nodes` table without `keyid` predates node ids being
 * key thumbprints: its rows cannot be carried over (no key to check), so it is set aside rather than dropped, and its
 * nodes register again within one heartbeat.
 */
function legacyRegistry(sql: SqlStorage): void {
  if (hasTable(sql, "nodes") && !hasColumn(sql, "nodes", "keyid")) {
    sql.exec("ALTER TABLE nodes RENAME TO nodes_before_keys");
    // An index keeps its name when its table is renamed; the new table needs the name for its own.
    sql.exec("DROP INDEX IF EXISTS nodes_last_heartbeat");
  }
  sql.exec(LEGACY_SCHEMA);
  addMissingColumns(sql, "nodes", ADDED_COLUMNS);
  sql.exec("CREATE INDEX IF NOT EXISTS nodes_origin ON nodes (origin)");
}

/**
 * Step 2: the heartbeat and registration buckets count whole sub-units (limits/token-bucket.ts: 1/periodMs of a
 * token) instead of fractional tokens. The periods are those of the limits then, a minute and an hour, written out
 * so the step cannot change. The columns keep their declared REAL type (SQLite cannot change it in place); the
 * values are whole and below 2^53, exact as doubles.
 */
function integerBuckets(sql: SqlStorage): void {
  sql.exec("ALTER TABLE nodes RENAME COLUMN hb_tokens TO hb_level");
  sql.exec("UPDATE nodes SET hb_level = CAST(hb_level * ? AS INTEGER)", 60_000);
  sql.exec("ALTER TABLE registration_sources RENAME COLUMN tokens TO level");
  sql.exec("UPDATE registration_sources SET level = CAST(level * ? AS INTEGER)", 3_600_000);
}

/**
 * Step 3: nodes that dial in (node sessions, durable/node-session): the number of the node's newest session, and
 * whether it is open. A node with an open session is live whatever its last heartbeat says.
 */
function nodeSessions(sql: SqlStorage): void {
  sql.exec("ALTER TABLE nodes ADD COLUMN session_seq INTEGER NOT NULL DEFAULT 0");
  sql.exec("ALTER TABLE nodes ADD COLUMN session_open INTEGER NOT NULL DEFAULT 0");
}

/** Step 4: the last hour's traffic by minute, for the status page (mesh-figures.ts). */
function trafficMinutes(sql: SqlStorage): void {
  sql.exec(
    "CREATE TABLE traffic_minutes (start INTEGER PRIMARY KEY, requests INTEGER NOT NULL, succeeded INTEGER NOT NULL)",
  );
}

export const REGISTRY_MIGRATIONS: readonly Migration[] = [legacyRegistry, integerBuckets, nodeSessions, trafficMinutes];

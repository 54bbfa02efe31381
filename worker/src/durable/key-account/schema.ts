// A key account's tables and their upgrades. `usage` is the old per-key ledger's table, kept with its rows: accounts
// live in the ledgers' storage (a class rename), and an old table is upgraded in place. `reservations.created` is
// written but read by nothing; deployed tables declare it NOT NULL without a default, so it stays rather than take a
// migration.
import { DAY_MS } from "../../billing/retention.js";
import { addMissingColumns, hasColumn, type AddedColumn, type Migration } from "../migrations.js";
import { ROLLUP_CARRIED } from "./rows.js";
import { SLICES_TABLE } from "./slices.js";

/** The tables as accounts created them before versioned upgrades; frozen, like every deployed step. */
const LEGACY_SCHEMA = `
CREATE TABLE IF NOT EXISTS account (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  budget INTEGER,
  rpm INTEGER,
  tpm INTEGER,
  spent INTEGER NOT NULL DEFAULT 0,
  rpm_level INTEGER NOT NULL DEFAULT 0,
  rpm_at INTEGER NOT NULL DEFAULT 0,
  tpm_level INTEGER NOT NULL DEFAULT 0,
  tpm_at INTEGER NOT NULL DEFAULT 0,
  outbox_failures INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO account (id) VALUES (1);
CREATE TABLE IF NOT EXISTS reservations (
  request_id TEXT PRIMARY KEY,
  amount INTEGER NOT NULL,
  tokens INTEGER NOT NULL,
  created INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_expires ON reservations (expires_at);
CREATE TABLE IF NOT EXISTS usage (
  request_id TEXT PRIMARY KEY, created INTEGER NOT NULL, key_id TEXT NOT NULL, node_id TEXT NOT NULL,
  model TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL,
  latency_ms INTEGER NOT NULL, status INTEGER NOT NULL, streamed INTEGER NOT NULL,
  cost INTEGER NOT NULL DEFAULT 0,
  node_amount INTEGER NOT NULL DEFAULT 0,
  billable INTEGER NOT NULL DEFAULT 0,
  estimated INTEGER NOT NULL DEFAULT 0,
  receipt_status TEXT NOT NULL DEFAULT 'missing'
);
CREATE INDEX IF NOT EXISTS usage_created ON usage (created);
CREATE TABLE IF NOT EXISTS usage_daily (
  day INTEGER NOT NULL,
  model TEXT NOT NULL,
  node_id TEXT NOT NULL,
  requests INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  total_tokens INTEGER NOT NULL,
  cost INTEGER NOT NULL,
  node_amount INTEGER NOT NULL,
  billable_requests INTEGER NOT NULL,
  estimated_requests INTEGER NOT NULL,
  prompt_tokens_hi INTEGER NOT NULL DEFAULT 0,
  completion_tokens_hi INTEGER NOT NULL DEFAULT 0,
  total_tokens_hi INTEGER NOT NULL DEFAULT 0,
  cost_hi INTEGER NOT NULL DEFAULT 0,
  node_amount_hi INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, model, node_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
  request_id TEXT PRIMARY KEY,
  shard INTEGER NOT NULL,
  node_id TEXT NOT NULL,
  receipt TEXT NOT NULL,
  leaf TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  created INTEGER NOT NULL
);
`;

/** Columns the ledger's `usage` table lacked (its rows predate billing: nothing charged, no receipt). */
const ADDED_COLUMNS: readonly AddedColumn[] = [
  { column: "cost", definition: "cost INTEGER NOT NULL DEFAULT 0" },
  { column: "node_amount", definition: "node_amount INTEGER NOT NULL DEFAULT 0" },
  { column: "billable", definition: "billable INTEGER NOT NULL DEFAULT 0" },
  { column: "estimated", definition: "estimated INTEGER NOT NULL DEFAULT 0" },
  { column: "receipt_status", definition: "receipt_status TEXT NOT NULL DEFAULT 'missing'" },
];

/** The roll-ups' carries (see rows.ts), which tables from before them lack: 0, nothing carried yet. */
const ROLLUP_CARRIES: readonly AddedColumn[] = ROLLUP_CARRIED.map((c) => ({
  column: `${c}_hi`,
  definition: `${c}_hi INTEGER NOT NULL DEFAULT 0`,
}));

/**
 * Step 1, for a fresh account, a ledger's storage, or an account from before versions. A `usage` table without
 * `cost` predates the daily roll-ups too, so its rows are rolled up once, here.
 */
function legacyAccount(sql: SqlStorage): void {
  sql.exec(LEGACY_SCHEMA);
  const predatesRollups = !hasColumn(sql, "usage", "cost");
  addMissingColumns(sql, "usage", ADDED_COLUMNS);
  addMissingColumns(sql, "usage_daily", ROLLUP_CARRIES);
  // Summed in halves, as the carry keeps them (a plain SUM could pass int64 and leave the account unopenable).
  if (predatesRollups) {
    sql.exec(
      `INSERT INTO usage_daily (day, model, node_id, requests, prompt_tokens, completion_tokens, total_tokens, cost, node_amount, billable_requests,
        estimated_requests, prompt_tokens_hi, completion_tokens_hi, total_tokens_hi)
      SELECT created - created % ?, model, node_id, COUNT(*), SUM(prompt_tokens & 4294967295),
      SUM(completion_tokens & 4294967295),
        SUM(total_tokens & 4294967295), 0, 0, 0, 0, SUM(prompt_tokens >> 32), SUM(completion_tokens >> 32),
        SUM(total_tokens >> 32)
      FROM usage GROUP BY 1, 2, 3`,
      DAY_MS,
    );
  }
}

/**
 * Step 2: the slices of budget and rate limits lent to isolates (billing/slices.ts). IF NOT EXISTS only so a test
 * that rewinds an account to before versions can replay it.
 */
function slices(sql: SqlStorage): void {
  sql.exec(SLICES_TABLE);
}

/**
 * Step 3: a number every change of the limits raises, so the key's copy (ApiKeys) takes a change only over an older
 * one: two PATCHes of one key whose writes cross leave the copy at the later account state.
 */
function limitsVersion(sql: SqlStorage): void {
  // Added only if missing so a test that rewinds an account to before versions can replay it (as slices).
  addMissingColumns(sql, "account", [
    { column: "limits_version", definition: "limits_version INTEGER NOT NULL DEFAULT 0" },
  ]);
}

export const ACCOUNT_MIGRATIONS: readonly Migration[] = [legacyAccount, slices, limitsVersion];

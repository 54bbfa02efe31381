import { DurableObject } from "cloudflare:workers";
import type { KeyLimits } from "../../billing/records.js";
import { migrate } from "../migrations.js";
import { API_KEYS_MIGRATIONS } from "./schema.js";

export interface ApiKeyInfo extends KeyLimits {
  id: string;
  name: string;
  created: number;
  revoked: number | null;
}

/** A key as stored: its info and the SHA-256 (hex) of its token. */
export interface StoredKey extends ApiKeyInfo {
  hash: string;
}

/** What authentication learns about a key: who it is and whether it has limits its account must check. */
export interface KeyLookup {
  id: string;
  name: string;
  limits: KeyLimits;
}

export const NO_LIMITS: KeyLimits = { budget: null, rpm: null, tpm: null };

/** Rows as SQL returns them (type literals: the row constraint needs their implicit index signature). */
type KeyRow = {
  id: string;
  name: string;
  created: number;
  revoked: number | null;
  budget: number | null;
  rpm: number | null;
  tpm: number | null;
};
type StoredRow = KeyRow & { hash: string };

const INFO_COLUMNS = "id, name, created, revoked, budget, rpm, tpm";
const LEGACY_MOVED = "legacy_moved";
/** How many legacy keys the move took out of the root (written from the move's end, so absent: not known). */
const LEGACY_KEYS = "legacy_keys";

/**
 * API keys, stored as SHA-256 hashes of the token. Each row carries a copy of its account's limits, so that
 * authentication (cached per isolate) tells the request path whether a key needs its account consulted at all.
 *
 * One class, two roles: the index's shards (`keys:<n>`, a key in the shard of its id) and the index's root (`keys`, the
 * object that held every key before the index): it lists the shards that hold keys, hands its own rows to the shards
 * (legacy-move.ts) and answers for them until they have all moved.
 */
export class ApiKeys extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, API_KEYS_MIGRATIONS);
  }

  /** Idempotent (a retried insert or a moved row already here is ignored): admin creation and the legacy move. */
  insert(keys: readonly StoredKey[]): void {
    for (const k of keys)
      this.sql.exec(
        "INSERT OR IGNORE INTO api_keys (id, name, hash, created, revoked, budget, rpm, tpm) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        k.id,
        k.name,
        k.hash,
        k.created,
        k.revoked,
        k.budget,
        k.rpm,
        k.tpm,
      );
  }

  list(): ApiKeyInfo[] {
    return this.sql.exec<KeyRow>(`SELECT ${INFO_COLUMNS} FROM api_keys ORDER BY created, id`).toArray();
  }

  /** An active (not revoked) key, or null. */
  active(id: string): ApiKeyInfo | null {
    return (
      this.sql.exec<KeyRow>(`SELECT ${INFO_COLUMNS} FROM api_keys WHERE id = ? AND revoked IS NULL`, id).toArray()[0] ??
      null
    );
  }

  /**
   * Before its account changes: the copy gains every limit `change` sets (a null or absent one stays as it is), in one
   * statement, so it never loses a limit another change put there meanwhile. Returns the key's hash (to drop from
   * caches), or null when no active key has this id.
   */
  widenLimits(id: string, change: Partial<KeyLimits>): string | null {
    const row = this.sql
      .exec<{ hash: string }>(
        `UPDATE api_keys SET budget = COALESCE(?, budget), rpm = COALESCE(?, rpm), tpm = COALESCE(?, tpm)
         WHERE id = ? AND revoked IS NULL RETURNING hash`,
        change.budget ?? null,
        change.rpm ?? null,
        change.tpm ?? null,
        id,
      )
      .toArray()[0];
    return row?.hash ?? null;
  }

  /**
   * Copies an account's limits onto its key, unless the copy was already set from a later state of the account
   * (`version`, ConfiguredView's): of two PATCHes whose writes cross, the account's later state is the one kept.
   * Returns the key's hash (to drop from caches), or null when no active key has this id.
   */
  setLimits(id: string, limits: KeyLimits, version: number): string | null {
    const row = this.sql
      .exec<{ hash: string }>("SELECT hash FROM api_keys WHERE id = ? AND revoked IS NULL", id)
      .toArray()[0];
    if (!row) return null;
    this.sql.exec(
      "UPDATE api_keys SET budget = ?, rpm = ?, tpm = ?, limits_version = ? WHERE id = ? AND limits_version <= ?",
      limits.budget,
      limits.rpm,
      limits.tpm,
      version,
      id,
      version,
    );
    return row.hash;
  }

  /**
   * Revokes a key (a key revoked already keeps its first revocation time). Returns its hash, or null when no key has
   * this id: revoking twice succeeds twice, so an admin retrying after a failed publication publishes again.
   */
  revoke(id: string, now: number): string | null {
    const row = this.sql
      .exec<{ hash: string }>("UPDATE api_keys SET revoked = coalesce(revoked, ?) WHERE id = ? RETURNING hash", now, id)
      .toArray()[0];
    return row?.hash ?? null;
  }

  lookup(hash: string): KeyLookup | null {
    const row = this.sql
      .exec<Omit<KeyRow, "created" | "revoked">>(
        "SELECT id, name, budget, rpm, tpm FROM api_keys WHERE hash = ? AND revoked IS NULL",
        hash,
      )
      .toArray()[0];
    return row ? { id: row.id, name: row.name, limits: { budget: row.budget, rpm: row.rpm, tpm: row.tpm } } : null;
  }

  // A shard's pointers from legacy tokens' hashes (the shard of the hash's first byte) to their keys' ids.

  legacyPointer(hash: string): string | null {
    return this.sql.exec<{ id: string }>("SELECT id FROM legacy_hashes WHERE hash = ?", hash).toArray()[0]?.id ?? null;
  }

  addPointers(pointers: readonly { hash: string; id: string }[]): void {
    for (const p of pointers)
      this.sql.exec("INSERT OR IGNORE INTO legacy_hashes (hash, id) VALUES (?, ?)", p.hash, p.id);
  }

  // The index's root (the legacy object, `keys`): the shards holding keys, and the legacy keys until they moved.

  /** Recorded before a key is written to a shard, so a listing never misses one. */
  noteShards(shards: readonly number[]): void {
    for (const shard of shards) this.sql.exec("INSERT OR IGNORE INTO occupied_shards (shard) VALUES (?)", shard);
  }

  occupiedShards(): number[] {
    return this.sql
      .exec<{ shard: number }>("SELECT shard FROM occupied_shards ORDER BY shard")
      .toArray()
      .map((r) => r.shard);
  }

  /**
   * A legacy key still here (null: none), whether the move is over (then a missing pointer is final), and whether
   * there never was a legacy key (then no legacy-format token can be one: no token of that format is minted now).
   */
  legacyLookup(hash: string): { key: KeyLookup | null; moved: boolean; none: boolean } {
    const moved = this.legacyMoved();
    const count = this.sql
      .exec<{ value: number }>("SELECT value FROM index_state WHERE name = ?", LEGACY_KEYS)
      .toArray()[0]?.value;
    const key = this.lookup(hash);
    const empty = this.sql.exec("SELECT 1 FROM api_keys LIMIT 1").toArray().length === 0;
    return { key, moved, none: moved && count === 0 && empty };
  }

  markLegacyMoved(now: number): void {
    this.sql.exec("INSERT OR IGNORE INTO index_state (name, value) VALUES (?, ?)", LEGACY_MOVED, now);
    // A move that ended before keys were counted leaves no count: "not known", never taken for none.
    this.sql.exec("INSERT OR IGNORE INTO index_state (name, value) VALUES (?, 0)", LEGACY_KEYS);
  }

  private legacyMoved(): boolean {
    return this.sql.exec("SELECT 1 FROM index_state WHERE name = ?", LEGACY_MOVED).toArray().length > 0;
  }

  /** Up to `limit` legacy rows still to move, and whether the move was recorded as over. */
  exportBatch(limit: number): { keys: StoredKey[]; moved: boolean } {
    const keys = this.sql
      .exec<StoredRow>(`SELECT ${INFO_COLUMNS}, hash FROM api_keys ORDER BY id LIMIT ?`, limit)
      .toArray();
    return { keys, moved: this.legacyMoved() };
  }

  /** Legacy rows now held by the shards (counted, so an index that never had any can say so). */
  deleteMoved(ids: readonly string[]): void {
    let deleted = 0;
    for (const id of ids)
      deleted += this.sql.exec("DELETE FROM api_keys WHERE id = ? RETURNING id", id).toArray().length;
    if (deleted === 0) return;
    this.sql.exec(
      `INSERT INTO index_state (name, value) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET value = value + excluded.value`,
      LEGACY_KEYS,
      deleted,
    );
  }
}

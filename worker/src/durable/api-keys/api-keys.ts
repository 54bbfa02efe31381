import { DurableObject } from "cloudflare:workers";
import type { KeyLimits } from "../../billing/records.js";
import { generateApiKey, generateKeyId, hashApiKey } from "../../keys/api-key.js";
import { migrate } from "../migrations.js";
import { API_KEYS_MIGRATIONS } from "./schema.js";

export interface ApiKeyInfo extends KeyLimits {
  id: string;
  name: string;
  created: number;
  revoked: number | null;
}

export interface CreatedApiKey {
  id: string;
  name: string;
  key: string;
  created: number;
}

/** What authentication learns about a key: who it is and whether it has limits its account must check. */
export interface KeyLookup {
  id: string;
  name: string;
  limits: KeyLimits;
}

export const NO_LIMITS: KeyLimits = { budget: null, rpm: null, tpm: null };

type KeyRow = {
  id: string;
  name: string;
  created: number;
  revoked: number | null;
  budget: number | null;
  rpm: number | null;
  tpm: number | null;
};

/**
 * API keys, stored as SHA-256 hashes of the secret. Each row carries a copy of its account's limits, so that
 * authentication (cached per isolate) tells the request path whether a key needs its account consulted at all.
 */
export class ApiKeys extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, API_KEYS_MIGRATIONS);
  }

  /** `id` may be chosen by the caller, so the key's account can be configured before the key exists. */
  async create(
    name: string,
    now: number,
    limits: KeyLimits = NO_LIMITS,
    id: string = generateKeyId(),
  ): Promise<CreatedApiKey> {
    const key = generateApiKey();
    this.sql.exec(
      "INSERT INTO api_keys (id, name, hash, created, budget, rpm, tpm) VALUES (?, ?, ?, ?, ?, ?, ?)",
      id,
      name,
      await hashApiKey(key),
      now,
      limits.budget,
      limits.rpm,
      limits.tpm,
    );
    return { id, name, key, created: now };
  }

  list(): ApiKeyInfo[] {
    return this.sql
      .exec<KeyRow>("SELECT id, name, created, revoked, budget, rpm, tpm FROM api_keys ORDER BY created, id")
      .toArray();
  }

  /** An active (not revoked) key, or null. */
  active(id: string): ApiKeyInfo | null {
    return (
      this.sql
        .exec<KeyRow>(
          "SELECT id, name, created, revoked, budget, rpm, tpm FROM api_keys WHERE id = ? AND revoked IS NULL",
          id,
        )
        .toArray()[0] ?? null
    );
  }

  /**
   * Copies an account's limits onto its key. Returns the key's hash (to drop from caches), or null when no active key
   * has this id.
   */
  setLimits(id: string, limits: KeyLimits): string | null {
    const row = this.sql
      .exec<{ hash: string }>(
        "UPDATE api_keys SET budget = ?, rpm = ?, tpm = ? WHERE id = ? AND revoked IS NULL RETURNING hash",
        limits.budget,
        limits.rpm,
        limits.tpm,
        id,
      )
      .toArray()[0];
    return row?.hash ?? null;
  }

  /** Returns the revoked key's hash (so the caller can drop it from caches), or null when no active key has this id. */
  revoke(id: string, now: number): string | null {
    const row = this.sql
      .exec<{ hash: string }>(
        "UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked IS NULL RETURNING hash",
        now,
        id,
      )
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
}

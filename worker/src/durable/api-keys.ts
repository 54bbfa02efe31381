import { DurableObject } from "cloudflare:workers";
import { generateApiKey, generateKeyId, hashApiKey } from "../keys/api-key.js";

export interface ApiKeyInfo {
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

type KeyRow = { id: string; name: string; created: number; revoked: number | null };

/** API keys, stored as SHA-256 hashes of the secret. */
export class ApiKeys extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS api_keys (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created INTEGER NOT NULL, revoked INTEGER
    )`);
  }

  async create(name: string, now: number): Promise<CreatedApiKey> {
    const key = generateApiKey();
    const id = generateKeyId();
    this.ctx.storage.sql.exec("INSERT INTO api_keys (id, name, hash, created) VALUES (?, ?, ?, ?)", id, name, await hashApiKey(key), now);
    return { id, name, key, created: now };
  }

  list(): ApiKeyInfo[] {
    return this.ctx.storage.sql.exec<KeyRow>("SELECT id, name, created, revoked FROM api_keys ORDER BY created, id").toArray();
  }

  /** Returns the revoked key's hash (so the caller can drop it from caches), or null when no active key has this id. */
  revoke(id: string, now: number): string | null {
    const row = this.ctx.storage.sql.exec<{ hash: string }>("UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked IS NULL RETURNING hash", now, id).toArray()[0];
    return row?.hash ?? null;
  }

  lookup(hash: string): { id: string; name: string } | null {
    const row = this.ctx.storage.sql.exec<{ id: string; name: string }>("SELECT id, name FROM api_keys WHERE hash = ? AND revoked IS NULL", hash).toArray()[0];
    return row ?? null;
  }
}

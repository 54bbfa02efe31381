// Who is calling: API keys for the client API, the admin token for /admin.
import { constantTimeEqual, sha256, utf8 } from "@meshgate/schemas";
import type { KeyLimits } from "../billing/records.js";
import { apiKeys } from "../durable/names.js";
import { bearerToken, hashApiKey } from "../keys/api-key.js";
import { HttpError } from "./http-error.js";

export interface ApiKeyIdentity {
  id: string;
  name: string;
  /** A copy of the limits the key's account enforces; a key with none needs no reservation (see hasAnyLimit). */
  limits: KeyLimits;
}

/**
 * Lookups are cached per isolate this long, which bounds how long a revoked key keeps working elsewhere, and how long
 * other isolates take to learn that a key's limits changed.
 */
export const KEY_CACHE_TTL_MS = 2_000;
const MAX_CACHED = 10_000;
/**
 * Keyed by the presented token, so a cache hit costs no hashing. The tokens live only in this isolate's memory,
 * where every request's Authorization header passes anyway; storage only ever sees hashes.
 */
const cache = new Map<string, { identity: ApiKeyIdentity | null; expires: number; hash: string }>();

function unauthorized(message: string): HttpError {
  return new HttpError(401, message, { code: "invalid_api_key" });
}

export async function authenticate(request: Request, env: Env, now: number): Promise<ApiKeyIdentity> {
  const token = bearerToken(request.headers.get("authorization"));
  if (!token)
    throw unauthorized("You didn't provide an API key. Provide it in the Authorization header as 'Bearer YOUR_KEY'.");
  let entry = cache.get(token);
  if (!entry || entry.expires <= now) {
    const hash = await hashApiKey(token);
    entry = { identity: await apiKeys(env).lookup(hash), expires: now + KEY_CACHE_TTL_MS, hash };
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(token, entry);
  }
  if (!entry.identity) throw unauthorized("Incorrect API key provided.");
  return entry.identity;
}

/**
 * Forgets a key (revoked, or its limits changed) in this isolate at once; other isolates follow within
 * KEY_CACHE_TTL_MS.
 */
export function forgetKey(hash: string): void {
  for (const [token, entry] of cache) if (entry.hash === hash) cache.delete(token);
}

export async function requireAdmin(request: Request, env: Env): Promise<void> {
  const token = bearerToken(request.headers.get("authorization"));
  const expected = env.ADMIN_TOKEN;
  // Compare digests so neither the length nor the content of the token leaks through timing.
  if (!token || !expected || !constantTimeEqual(await sha256(utf8(token)), await sha256(utf8(expected)))) {
    throw new HttpError(401, "Admin authentication required.", { code: "invalid_admin_token" });
  }
}

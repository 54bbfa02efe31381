// Who is calling: API keys for the client API, the admin token for /admin.
import { constantTimeEqual, sha256, utf8 } from "@meshgate/schemas";
import type { KeyLimits } from "../billing/records.js";
import { bearerToken } from "../keys/api-key.js";
import { KeyCache } from "../keys/key-cache.js";
import { importKeySecret, parseToken, verifyTag } from "../keys/key-token.js";
import { HttpError } from "./http-error.js";
import { envKeySource } from "./key-source.js";

export interface ApiKeyIdentity {
  id: string;
  name: string;
  /** A copy of the limits the key's account enforces; a key with none needs no reservation (see hasAnyLimit). */
  limits: KeyLimits;
}

let currentEnv: Env | null = null;
/** This isolate's key cache (isolate state: one instance, so a load model can make a thousand). */
const keySource = envKeySource(() => {
  if (!currentEnv) throw new Error("the key cache was used before any request");
  return currentEnv;
});
export const keyCache = new KeyCache(keySource);

/** API_KEY_SECRET's HMAC key, imported once per value (null: missing or too short). */
const secrets = new Map<string, Promise<CryptoKey | null>>();

export function keySecret(env: { API_KEY_SECRET?: string }): Promise<CryptoKey | null> {
  const text = env.API_KEY_SECRET ?? "";
  let key = secrets.get(text);
  if (!key) {
    key = importKeySecret(text);
    secrets.set(text, key);
  }
  return key;
}

export function missingSecret(): HttpError {
  return new HttpError(500, "The gateway has no valid API_KEY_SECRET (base64url, at least 32 bytes) configured.", {
    code: "api_key_secret_missing",
  });
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, message, { code: "invalid_api_key" });
}

/**
 * A token is checked in this isolate before anything else: malformed ones, and new-format ones whose tag fails, are
 * refused with no lookup and no cache entry. Legacy tokens (no tag) are looked up, never cached negatively.
 * `ctx` is required: a read of the key-changes feed the cache starts runs beside the request under its waitUntil.
 * Without it the read is cut off with the response, never settles, and every later request of the isolate that
 * waits for the feed (its cached key older than 2 s) waits for ever.
 */
export async function authenticate(
  request: Request,
  env: Env,
  now: number,
  /** Keeps the feed read this request may start alive past its answer (a read left to die would never settle). */
  ctx: Pick<ExecutionContext, "waitUntil">,
): Promise<ApiKeyIdentity> {
  const token = bearerToken(request.headers.get("authorization"));
  if (!token)
    throw unauthorized("You didn't provide an API key. Provide it in the Authorization header as 'Bearer YOUR_KEY'.");
  const parsed = parseToken(token);
  if (parsed.kind === "malformed") throw unauthorized("Incorrect API key provided.");
  let claimedId: string | null = null;
  if (parsed.kind === "new") {
    const secret = await keySecret(env);
    // Without the secret no new-format key can be told from a forgery: an operator's error, said as one.
    if (!secret) throw missingSecret();
    // A token this isolate holds had its tag checked when it was first seen: no HMAC again on every request.
    if (!keyCache.holds(token) && !(await verifyTag(secret, parsed))) throw unauthorized("Incorrect API key provided.");
    claimedId = parsed.id;
  }
  currentEnv = env;
  keySource.noteColo((request as { cf?: { colo?: unknown } }).cf?.colo);
  const identity = await keyCache.identify(token, claimedId, now, (work) => ctx.waitUntil(work));
  if (!identity) throw unauthorized("Incorrect API key provided.");
  return identity;
}

/**
 * Forgets a key (revoked, or its limits changed) in this isolate at once; other isolates follow through the
 * key-changes feed within MAX_STALENESS_MS.
 */
export function forgetKey(hash: string, id: string | null = null): void {
  keyCache.forget(hash, id);
}

export async function requireAdmin(request: Request, env: Env): Promise<void> {
  const token = bearerToken(request.headers.get("authorization"));
  const expected = env.ADMIN_TOKEN;
  // Compare digests so neither the length nor the content of the token leaks through timing.
  if (!token || !expected || !constantTimeEqual(await sha256(utf8(token)), await sha256(utf8(expected)))) {
    throw new HttpError(401, "Admin authentication required.", { code: "invalid_admin_token" });
  }
}

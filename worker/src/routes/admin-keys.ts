// /admin/keys: create, list, change the limits of, and revoke API keys (admin token required).
import {
  CreateKeySchema,
  UpdateKeySchema,
  type ApiKey,
  type DeletedApiKey,
  type CreatedApiKey,
  type UpdatedApiKey,
} from "@meshgate/schemas";
import type { KeyLimits } from "../billing/records.js";
import { hasAnyLimit } from "../billing/reservation.js";
import type { ApiKeyInfo } from "../durable/api-keys/api-keys.js";
import { listAllKeys } from "../durable/api-keys/key-index.js";
import { moveLegacyKeys } from "../durable/api-keys/legacy-move.js";
import { publishKeyChange } from "../durable/key-changes/publish.js";
import { keyAccount, keyIndexOf, keyIndexRoot } from "../durable/names.js";
import { forgetKey, keySecret, missingSecret, requireAdmin } from "../http/auth.js";
import { HttpError } from "../http/http-error.js";
import { readJson } from "../http/json-body.js";
import type { GatewayRequest } from "../http/request-id.js";
import { hashApiKey } from "../keys/api-key.js";
import { keyShardOf } from "../keys/key-shard.js";
import { KEY_ID_BYTES, KEY_SECRET_BYTES, keyIdOf, mintToken } from "../keys/key-token.js";

type LimitFields = {
  budget?: number | null | undefined;
  rpm?: number | null | undefined;
  tpm?: number | null | undefined;
};

/** The limits a request sets (absent ones stay as they are). */
function given(v: LimitFields): Partial<KeyLimits> {
  return {
    ...(v.budget === undefined ? {} : { budget: v.budget }),
    ...(v.rpm === undefined ? {} : { rpm: v.rpm }),
    ...(v.tpm === undefined ? {} : { tpm: v.tpm }),
  };
}

const seconds = (ms: number) => Math.floor(ms / 1000);

const keyBody = (k: ApiKeyInfo): ApiKey => ({
  object: "api_key",
  id: k.id,
  name: k.name,
  created: seconds(k.created),
  revoked: k.revoked === null ? null : seconds(k.revoked),
  budget: k.budget,
  rpm: k.rpm,
  tpm: k.tpm,
});

const notFound = (id: string) =>
  new HttpError(404, `No active API key with id '${id}'.`, { param: "id", code: "key_not_found" });

/** A new key's id and token (the secret is shown once, in the answer; only the token's hash is stored). */
async function mint(env: Env): Promise<{ id: string; token: string }> {
  const secret = await keySecret(env);
  if (!secret) throw missingSecret();
  const idBytes = crypto.getRandomValues(new Uint8Array(KEY_ID_BYTES));
  const token = await mintToken(secret, idBytes, crypto.getRandomValues(new Uint8Array(KEY_SECRET_BYTES)));
  return { id: keyIdOf(idBytes), token };
}

export async function createKeyRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const { value } = await readJson(request, CreateKeySchema, 16 * 1024);
  const now = Date.now();
  const limits: KeyLimits = { budget: null, rpm: null, tpm: null, ...given(value) };
  const { id, token } = await mint(env);
  await moveLegacyKeys(env, now);
  // The account first: a key never exists, even briefly, with limits its account does not enforce yet.
  if (hasAnyLimit(limits)) await keyAccount(env, id).configure(limits, now);
  const hash = await hashApiKey(token);
  await keyIndexRoot(env).noteShards([keyShardOf(id)]);
  await keyIndexOf(env, id).insert([{ id, name: value.name, hash, created: now, revoked: null, ...limits }]);
  // The only time the secret is ever shown.
  const body: CreatedApiKey = { object: "api_key", id, name: value.name, key: token, created: seconds(now), ...limits };
  return Response.json(body, { status: 201 });
}

/**
 * Spent is not listed: it lives in each key's account, one round trip per key. GET /admin/usage?group_by=key from
 * the epoch has every key's lifetime cost, and PATCH answers with the key's spent and reserved.
 */
export async function listKeysRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const keys = await listAllKeys(env, Date.now());
  return Response.json({ object: "list", data: keys.map(keyBody) });
}

/**
 * PATCH /admin/keys/{id}. Three writes, ordered so that a failure after any of them leaves the key's copy at least as
 * limited as its account: the copy widened by the limits the change sets, the account changed, the copy set to the
 * account's limits. The copy tells the request path whether to consult the account, so it may be more limited than the
 * account (a needless reservation; for a budget, a default completion cap) but never less (requests would skip the
 * account). Two PATCHes of one key may cross: the widening is one statement that only adds, and the copy takes the
 * account's limits only from a later state than the one it has (the account's version). Each write to the copy is
 * published to the key-changes feed before the next step, so no isolate keeps a cached copy less limited than the
 * account for longer than the feed's bound.
 */
export async function updateKeyRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const id = request.params["id"] ?? "";
  const { value } = await readJson(request, UpdateKeySchema, 16 * 1024);
  await moveLegacyKeys(env, Date.now());
  const keys = keyIndexOf(env, id);
  const key = await keys.active(id);
  if (!key) throw notFound(id);
  const change = given(value);
  const hash = await keys.widenLimits(id, change);
  if (hash === null) throw notFound(id);
  forgetKey(hash, id);
  await publishKeyChange(env, id, Date.now());
  const account = await keyAccount(env, id).configure(change, Date.now());
  const limits: KeyLimits = { budget: account.budget, rpm: account.rpm, tpm: account.tpm };
  if ((await keys.setLimits(id, limits, account.version)) === null) throw notFound(id);
  // This isolate's cache follows at once, the others through the feed.
  forgetKey(hash, id);
  await publishKeyChange(env, id, Date.now());
  const body: UpdatedApiKey = { ...keyBody({ ...key, ...limits }), spent: account.spent, reserved: account.reserved };
  return Response.json(body);
}

/**
 * DELETE /admin/keys/{id}: the key's shard first, then the feed. Revoking a revoked key succeeds again and publishes
 * again, so an admin retrying after a failed publication (a 500) makes sure every isolate hears of it.
 */
export async function revokeKeyRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const id = request.params["id"] ?? "";
  const now = Date.now();
  await moveLegacyKeys(env, now);
  const hash = await keyIndexOf(env, id).revoke(id, now);
  if (hash === null) throw notFound(id);
  forgetKey(hash, id);
  await publishKeyChange(env, id, now);
  const body: DeletedApiKey = { object: "api_key", id, deleted: true };
  return Response.json(body);
}

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
import { apiKeys, keyAccount } from "../durable/names.js";
import { forgetKey, requireAdmin } from "../http/auth.js";
import { HttpError } from "../http/http-error.js";
import { readJson } from "../http/json-body.js";
import type { GatewayRequest } from "../http/request-id.js";
import { generateKeyId } from "../keys/api-key.js";

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

export async function createKeyRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const { value } = await readJson(request, CreateKeySchema, 16 * 1024);
  const now = Date.now();
  const limits: KeyLimits = { budget: null, rpm: null, tpm: null, ...given(value) };
  // The account first: a key never exists, even briefly, with limits its account does not enforce yet.
  const id = generateKeyId();
  if (hasAnyLimit(limits)) await keyAccount(env, id).configure(limits, now);
  const created = await apiKeys(env).create(value.name, now, limits, id);
  // The only time the secret is ever shown.
  const body: CreatedApiKey = {
    object: "api_key",
    id: created.id,
    name: created.name,
    key: created.key,
    created: seconds(created.created),
    ...limits,
  };
  return Response.json(body, { status: 201 });
}

/**
 * Spent is not listed: it lives in each key's account, one round trip per key. GET /admin/usage?group_by=key from
 * the epoch has every key's lifetime cost, and PATCH answers with the key's spent and reserved.
 */
export async function listKeysRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const keys = await apiKeys(env).list();
  return Response.json({ object: "list", data: keys.map(keyBody) });
}

/**
 * Every limit either the current or the changed settings have: what the key's copy says while its account changes.
 * The copy tells the request path whether to consult the account, so it may be more limited than the account (a
 * needless reservation; for a budget, a default completion cap) but never less (requests would skip the account).
 */
function unionOf(current: KeyLimits, change: Partial<KeyLimits>): KeyLimits {
  return { budget: change.budget ?? current.budget, rpm: change.rpm ?? current.rpm, tpm: change.tpm ?? current.tpm };
}

/**
 * PATCH /admin/keys/{id}. Three writes, ordered so that a failure after any of them leaves the key's copy at least as
 * limited as its account: the copy widened to the union, the account changed, the copy set to the account's limits.
 */
export async function updateKeyRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const id = request.params["id"] ?? "";
  const { value } = await readJson(request, UpdateKeySchema, 16 * 1024);
  const keys = apiKeys(env);
  const key = await keys.active(id);
  if (!key) throw notFound(id);
  const change = given(value);
  const hash = await keys.setLimits(id, unionOf(key, change));
  if (hash === null) throw notFound(id);
  forgetKey(hash);
  const account = await keyAccount(env, id).configure(change, Date.now());
  const limits: KeyLimits = { budget: account.budget, rpm: account.rpm, tpm: account.tpm };
  if ((await keys.setLimits(id, limits)) === null) throw notFound(id);
  // This isolate's cache follows at once (other isolates within KEY_CACHE_TTL_MS).
  forgetKey(hash);
  const body: UpdatedApiKey = { ...keyBody({ ...key, ...limits }), spent: account.spent, reserved: account.reserved };
  return Response.json(body);
}

export async function revokeKeyRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const id = request.params["id"] ?? "";
  const hash = await apiKeys(env).revoke(id, Date.now());
  if (hash === null) throw notFound(id);
  forgetKey(hash);
  const body: DeletedApiKey = { object: "api_key", id, deleted: true };
  return Response.json(body);
}

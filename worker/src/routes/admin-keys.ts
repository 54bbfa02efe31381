// /admin/keys: create, list and revoke API keys (admin token required).
import { z } from "zod";
import { apiKeys } from "../durable/names.js";
import { forgetKey, requireAdmin } from "../http/auth.js";
import { HttpError } from "../http/http-error.js";
import { readJson } from "../http/json-body.js";
import type { GatewayRequest } from "../http/request-id.js";

const CreateKeySchema = z.strictObject({ name: z.string().trim().min(1).max(128) });

const seconds = (ms: number) => Math.floor(ms / 1000);

export async function createKeyRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const { value } = await readJson(request, CreateKeySchema, 16 * 1024);
  const created = await apiKeys(env).create(value.name, Date.now());
  // The only time the secret is ever shown.
  return Response.json({ object: "api_key", id: created.id, name: created.name, key: created.key, created: seconds(created.created) }, { status: 201 });
}

export async function listKeysRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const keys = await apiKeys(env).list();
  const data = keys.map((k) => ({ object: "api_key", id: k.id, name: k.name, created: seconds(k.created), revoked: k.revoked === null ? null : seconds(k.revoked) }));
  return Response.json({ object: "list", data });
}

export async function revokeKeyRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const id = request.params["id"] ?? "";
  const hash = await apiKeys(env).revoke(id, Date.now());
  if (hash === null) throw new HttpError(404, `No active API key with id '${id}'.`, { param: "id", code: "key_not_found" });
  forgetKey(hash);
  return Response.json({ object: "api_key", id, deleted: true });
}

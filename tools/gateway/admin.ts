// The admin API as a client: create API keys (shown once by the gateway, which stores only their hash).

export interface CreatedKey {
  id: string;
  name: string;
  key: string;
}

/** A key's budget (micro-units) and rate limits; absent or null: none. */
export interface KeyLimitsInput {
  budget?: number | null;
  rpm?: number | null;
  tpm?: number | null;
}

export async function createApiKey(
  gatewayUrl: string,
  adminToken: string,
  name: string,
  limits: KeyLimitsInput = {},
): Promise<CreatedKey> {
  const response = await fetch(`${gatewayUrl}/admin/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name, ...limits }),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`POST /admin/keys answered ${response.status}: ${text}`);
  const body = JSON.parse(text) as Partial<CreatedKey>;
  if (typeof body.id !== "string" || typeof body.key !== "string")
    throw new Error(`POST /admin/keys answered an unexpected body: ${text}`);
  return { id: body.id, name: body.name ?? name, key: body.key };
}

/** Whether `key` is accepted by the gateway (a 401 means unknown or revoked). */
export async function apiKeyWorks(gatewayUrl: string, key: string): Promise<boolean> {
  const response = await fetch(`${gatewayUrl}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  await response.body?.cancel();
  if (response.status === 401) return false;
  if (!response.ok) throw new Error(`GET /v1/models answered ${response.status}`);
  return true;
}

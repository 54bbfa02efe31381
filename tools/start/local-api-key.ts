// A ready API key for local use. The gateway stores keys hashed and shows one only when it is created, so the key
// made on first start is remembered in a git-ignored file beside the state it belongs to, and reused on restarts
// for as long as the gateway still accepts it (wiping the state or rotating secrets gets a new one).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { apiKeyWorks, createApiKey, type CreatedKey } from "../gateway/admin.js";

export async function ensureLocalApiKey(
  path: string,
  gatewayUrl: string,
  adminToken: string,
  /** Shown in the admin API's key list. */
  name = "local development (npm start)",
): Promise<CreatedKey & { reused: boolean }> {
  if (existsSync(path)) {
    const saved = JSON.parse(readFileSync(path, "utf8")) as Partial<CreatedKey>;
    if (typeof saved.key === "string" && typeof saved.id === "string" && (await apiKeyWorks(gatewayUrl, saved.key))) {
      return { id: saved.id, name: saved.name ?? "local", key: saved.key, reused: true };
    }
  }
  const created = await createApiKey(gatewayUrl, adminToken, name);
  writeFileSync(path, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600 });
  return { ...created, reused: false };
}

// API keys: random secrets shown once; only their SHA-256 is stored or compared.
import { sha256, toBase64Url, utf8 } from "@meshgate/schemas";

export const API_KEY_PREFIX = "mg-";

export function generateApiKey(): string {
  return API_KEY_PREFIX + toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

export function generateKeyId(): string {
  return "key_" + toBase64Url(crypto.getRandomValues(new Uint8Array(9)));
}

export async function hashApiKey(key: string): Promise<string> {
  let hex = "";
  for (const b of await sha256(utf8(key))) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | null): string | null {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1] ?? null;
}

// API keys: tokens shown once; only their SHA-256 is stored or compared. New keys are minted by key-token.ts.
import { sha256, toBase64Url, utf8 } from "@meshgate/schemas";
import { LEGACY_PREFIX } from "./key-token.js";

/** A key in the legacy format (`mg-` + 32 random bytes, no tag): no longer minted, made by tests of their support. */
export function generateLegacyApiKey(): string {
  return LEGACY_PREFIX + toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
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

// The gateway keys agents should accept: the current one (GATEWAY_SIGNING_KEY, which signs) and, during a rotation,
// the previous one (GATEWAY_PREVIOUS_PUBLIC_KEY) until GATEWAY_PREVIOUS_KEY_UNTIL. Isolates still running the old
// secret keep signing with the old key for a moment after a deploy; agents accept both meanwhile.
import { fromBase64, jwkThumbprint, publicJwk, type GatewayKey } from "@meshgate/schemas";
import { gatewayIdentity } from "./gateway-identity.js";

/** Unix seconds or ISO 8601; null when absent or unreadable. */
export function parseInstant(text: string | undefined): number | null {
  const value = text?.trim();
  if (!value) return null;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

export async function gatewayKeys(env: Env, now: number): Promise<GatewayKey[]> {
  const { publicKey } = await gatewayIdentity(env);
  const keys: GatewayKey[] = [{ kid: await jwkThumbprint(publicKey), alg: "ed25519", jwk: publicJwk(publicKey), status: "current", not_after: null }];
  const previous = env.GATEWAY_PREVIOUS_PUBLIC_KEY?.trim();
  if (!previous || previous === publicKey) return keys;
  if (previous.length !== 43 || fromBase64(previous)?.length !== 32) {
    console.error("GATEWAY_PREVIOUS_PUBLIC_KEY is not a 32-byte base64url Ed25519 public key; not published");
    return keys;
  }
  const until = parseInstant(env.GATEWAY_PREVIOUS_KEY_UNTIL);
  if (until !== null && until <= now) return keys;
  keys.push({ kid: await jwkThumbprint(previous), alg: "ed25519", jwk: publicJwk(previous), status: "previous", not_after: until === null ? null : new Date(until).toISOString() });
  return keys;
}

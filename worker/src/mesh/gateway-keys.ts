// The gateway keys agents should accept: the current one (GATEWAY_SIGNING_KEY, which signs) and, during a rotation,
// the previous one (GATEWAY_PREVIOUS_PUBLIC_KEY) until GATEWAY_PREVIOUS_KEY_UNTIL. Isolates still running the old
// secret keep signing with the old key for a moment after a deploy; agents accept both meanwhile.
import { isCanonicalKey, jwkThumbprint, publicJwk, type GatewayKey } from "@meshgate/schemas";
import { gatewayIdentity } from "./gateway-identity.js";

/** Unix seconds (or milliseconds, from 13 digits on) or ISO 8601; null when absent, NaN when unreadable. */
export function parseInstant(text: string | undefined): number | null {
  const value = text?.trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return value.length >= 13 ? Number(value) : Number(value) * 1000;
  return Date.parse(value);
}

export async function gatewayKeys(env: Env, now: number): Promise<GatewayKey[]> {
  const { publicKey } = await gatewayIdentity(env);
  const keys: GatewayKey[] = [
    {
      kid: await jwkThumbprint(publicKey),
      alg: "ed25519",
      jwk: publicJwk(publicKey),
      status: "current",
      not_after: null,
    },
  ];
  const previous = env.GATEWAY_PREVIOUS_PUBLIC_KEY?.trim();
  if (!previous || previous === publicKey) return keys;
  // A malformed entry would make agents refuse the whole document; an unreadable deadline would publish it forever.
  if (!isCanonicalKey(previous)) {
    console.error("GATEWAY_PREVIOUS_PUBLIC_KEY is not a canonical base64url Ed25519 public key; not published");
    return keys;
  }
  const until = parseInstant(env.GATEWAY_PREVIOUS_KEY_UNTIL);
  if (Number.isNaN(until)) {
    console.error("GATEWAY_PREVIOUS_KEY_UNTIL is neither unix seconds nor ISO 8601; the previous key is not published");
    return keys;
  }
  if (until !== null && until <= now) return keys;
  keys.push({
    kid: await jwkThumbprint(previous),
    alg: "ed25519",
    jwk: publicJwk(previous),
    status: "previous",
    not_after: until === null ? null : new Date(until).toISOString(),
  });
  return keys;
}

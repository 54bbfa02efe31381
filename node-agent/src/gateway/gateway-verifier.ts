// Checks the gateway's dispatch signatures against the keys it publishes (current and, during a rotation, previous).
//
// Verification uses Node's native Ed25519 (OpenSSL, the same engine as WebCrypto) rather than @noble/ed25519:
// measured here, noble's pure-JS verify costs ~1.3 ms, more than the agent's whole per-request budget, while the
// native one costs ~0.1 ms. Both are strict RFC 8032 verifiers (S < L, canonical encodings).
import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";
import { fromBase64, type GatewayKey, type KeyVerifier } from "@meshgate/schemas";

export interface UsableKey {
  key: KeyObject;
  /** Milliseconds since the epoch after which the key is refused; null for no end. */
  notAfter: number | null;
}

export function importGatewayKey(published: GatewayKey): UsableKey {
  const raw = fromBase64(published.jwk.x);
  if (raw?.length !== 32) throw new Error(`gateway key ${published.kid} is not a 32-byte base64url Ed25519 key`);
  // RFC 7638 thumbprint, computed here rather than trusted: signatures name keys by it.
  const thumbprint = createHash("sha256")
    .update(`{"crv":"Ed25519","kty":"OKP","x":"${published.jwk.x}"}`)
    .digest("base64url");
  if (thumbprint !== published.kid) throw new Error(`gateway key ${published.kid} is not named by its thumbprint`);
  const notAfter = published.not_after === null ? null : Date.parse(published.not_after);
  return {
    key: createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: published.jwk.x }, format: "jwk" }),
    notAfter: Number.isNaN(notAfter) ? 0 : notAfter,
  };
}

export function verifyWith(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}

/** A verifier over a fixed key list (tests, benchmarks); a running agent uses GatewayKeySet, which refreshes. */
export function gatewayKeyVerifier(keys: readonly GatewayKey[], now: () => number = Date.now): KeyVerifier {
  const usable = new Map(keys.map((k) => [k.kid, importGatewayKey(k)]));
  return (keyId, data, signature) => {
    const found = usable.get(keyId);
    if (!found || (found.notAfter !== null && found.notAfter <= now())) return Promise.resolve(null);
    return Promise.resolve(verifyWith(found.key, data, signature));
  };
}

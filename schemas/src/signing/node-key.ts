// How a node's signatures name their key. keyid = the RFC 7638 thumbprint of the node's current key, and the key
// itself travels in the `meshgate-node-key` header: the gateway checks that it hashes to the keyid, then verifies.
// A key is thus self-certifying (nothing to look up before the signature is checked), yet the keyid is standard.
import { fromBase64 } from "./base64.js";
import { jwkThumbprint } from "./jwk.js";
import type { KeyVerifier } from "./request-signing.js";

export const NODE_KEY_HEADER = "meshgate-node-key";

const thumbprints = new Map<string, Promise<string>>();
const MAX_CACHED = 20_000;

/** The thumbprint of a base64url Ed25519 public key, memoised: heartbeats repeat the same keys every few seconds. */
export function cachedThumbprint(publicKey: string): Promise<string> {
  let thumbprint = thumbprints.get(publicKey);
  if (!thumbprint) {
    if (thumbprints.size >= MAX_CACHED) thumbprints.clear();
    thumbprint = jwkThumbprint(publicKey);
    thumbprints.set(publicKey, thumbprint);
  }
  return thumbprint;
}

/**
 * A 32-byte key in canonical base64url (RFC 8037 `x`): one spelling per key, so one thumbprint per key. Standard
 * base64 (`+/`) or stray bits would otherwise give the same key a second keyid, and a rotated-out key a fresh start.
 */
export function isCanonicalKey(x: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(x) && fromBase64(x) !== null;
}

export type RawVerify = (publicKey: string, signature: Uint8Array, data: Uint8Array) => Promise<boolean>;

/**
 * A KeyVerifier for node signatures: the keyid is known only if `publicKey` (from NODE_KEY_HEADER) hashes to it.
 * Whether that key is the node's current one is the registry's decision, after the signature is known to be good.
 */
export function nodeKeyVerifier(publicKey: string | null, verify: RawVerify): KeyVerifier {
  return async (keyId, data, signature) => {
    if (!publicKey || !isCanonicalKey(publicKey) || (await cachedThumbprint(publicKey)) !== keyId) return null;
    return verify(publicKey, signature, data);
  };
}

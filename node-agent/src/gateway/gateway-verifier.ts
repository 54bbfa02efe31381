// Checks the gateway's dispatch signatures. Only the gateway's own keyid is known; any other key is "unknown".
//
// Verification uses Node's native Ed25519 (OpenSSL, the same engine as WebCrypto) rather than @noble/ed25519:
// measured here, noble's pure-JS verify costs ~1.3 ms, more than the agent's whole per-request budget, while the
// native one costs ~0.1 ms. Both are strict RFC 8032 verifiers for honestly generated keys and signatures.
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { fromBase64, type GatewayMetadata, type KeyVerifier } from "@meshgate/schemas";

function importPublicKey(publicKey: string): KeyObject {
  const raw = fromBase64(publicKey);
  if (!raw || raw.length !== 32) throw new Error("the gateway's public key is not a 32-byte base64url Ed25519 key");
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: publicKey }, format: "jwk" });
}

export function gatewayKeyVerifier(signingKey: GatewayMetadata["signing_key"]): KeyVerifier {
  const key = importPublicKey(signingKey.public_key);
  const keyId = signingKey.keyid;
  return (candidate, data, signature) => {
    if (candidate !== keyId) return Promise.resolve(null);
    if (signature.length !== 64) return Promise.resolve(false);
    try {
      return Promise.resolve(verify(null, data, key, signature));
    } catch {
      return Promise.resolve(false);
    }
  };
}

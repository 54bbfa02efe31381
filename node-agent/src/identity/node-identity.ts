// A node's Ed25519 identity. The node id is the RFC 7638 thumbprint of the node's first key and never changes; the
// current key signs (keyid = its own thumbprint) and may be rotated (`node-agent rotate-key`).
import { createPrivateKey, sign as signEd25519 } from "node:crypto";
import * as ed from "@noble/ed25519";
import { jwkThumbprint, toBase64Url, type Signer } from "@meshgate/schemas";

export interface NodeIdentity {
  nodeId: string;
  /** The current key's public half, base64url: sent as `meshgate-node-key` with every signed message. */
  publicKey: string;
  /** The 32-byte RFC 8032 private key (seed). */
  secretKey: Uint8Array;
  /** Signs with the current key; `keyId` is that key's thumbprint. */
  signer: Signer;
}

/** `nodeId` is absent for a node's first key: the id is then that key's thumbprint. */
export async function identityFromSecretKey(secretKey: Uint8Array, nodeId?: string): Promise<NodeIdentity> {
  if (secretKey.length !== 32) throw new Error("an Ed25519 private key must be 32 bytes");
  const publicKey = toBase64Url(await ed.getPublicKeyAsync(secretKey));
  const keyId = await jwkThumbprint(publicKey);
  // Signed natively (OpenSSL): ~35 µs against noble's ~400 µs, and every answer the node serves is signed (its
  // receipt). Ed25519 is deterministic, so the signatures are the same bytes either way.
  const privateKey = createPrivateKey({
    key: { kty: "OKP", crv: "Ed25519", d: toBase64Url(secretKey), x: publicKey },
    format: "jwk",
  });
  const signer: Signer = {
    keyId,
    sign: (data) => Promise.resolve(new Uint8Array(signEd25519(null, data, privateKey))),
  };
  return { nodeId: nodeId ?? keyId, publicKey, secretKey, signer };
}

export function generateIdentity(): Promise<NodeIdentity> {
  return identityFromSecretKey(ed.utils.randomSecretKey());
}

/** The same node with a fresh key, for a rotation. */
export function nextIdentity(current: NodeIdentity): Promise<NodeIdentity> {
  return identityFromSecretKey(ed.utils.randomSecretKey(), current.nodeId);
}

// A node's Ed25519 identity. The node id is the raw public key in base64url (43 characters), everywhere.
import * as ed from "@noble/ed25519";
import { toBase64Url, type Signer } from "@meshgate/schemas";

export interface NodeIdentity {
  nodeId: string;
  /** The 32-byte RFC 8032 private key (seed). */
  secretKey: Uint8Array;
  /** Signs as the node: `keyId` is the node id, so the gateway needs no key registry. */
  signer: Signer;
}

export async function identityFromSecretKey(secretKey: Uint8Array): Promise<NodeIdentity> {
  if (secretKey.length !== 32) throw new Error("an Ed25519 private key must be 32 bytes");
  const nodeId = toBase64Url(await ed.getPublicKeyAsync(secretKey));
  return { nodeId, secretKey, signer: { keyId: nodeId, sign: (data) => ed.signAsync(data, secretKey) } };
}

export function generateIdentity(): Promise<NodeIdentity> {
  return identityFromSecretKey(ed.utils.randomSecretKey());
}

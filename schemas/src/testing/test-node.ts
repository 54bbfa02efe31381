// A node identity for tests that play a node: its id is its first key's RFC 7638 thumbprint, which is also the
// keyid it signs with, exactly as the agent derives them.
import { newSeed, webCryptoSignerFromSeed } from "../signing/ed25519-webcrypto.js";
import { jwkThumbprint } from "../signing/jwk.js";
import type { Signer } from "../signing/request-signing.js";

export interface TestIdentity {
  /** The node id: the thumbprint of its first key. */
  id: string;
  /** The current key's public half (base64url), sent as meshgate-node-key. */
  publicKey: string;
  signer: Signer;
}

/** The identity of a 32-byte seed (base64url), a fresh random one by default. */
export async function newTestNode(seed: string = newSeed()): Promise<TestIdentity> {
  const { publicKey, signer } = await webCryptoSignerFromSeed(seed, jwkThumbprint);
  return { id: signer.keyId, publicKey, signer };
}

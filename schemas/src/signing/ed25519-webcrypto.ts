// Ed25519 through WebCrypto (native in workerd and Node): strict RFC 8032 verification.
import { fromBase64, toBase64Url } from "./base64.js";
import type { Signer } from "./request-signing.js";

const PKCS8_ED25519_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const ALG = { name: "Ed25519" } as const;

// Key types are inferred rather than named: Node's typings and workerd's declare WebCrypto's types differently.
const importVerifyKey = (raw: Uint8Array) => crypto.subtle.importKey("raw", raw, ALG, false, ["verify"]);
type VerifyKey = Awaited<ReturnType<typeof importVerifyKey>>;

const publicKeys = new Map<string, VerifyKey>();
const MAX_CACHED_KEYS = 20_000;

async function publicKey(raw: Uint8Array, cacheKey: string): Promise<VerifyKey> {
  let key = publicKeys.get(cacheKey);
  if (!key) {
    key = await importVerifyKey(raw);
    if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.clear();
    publicKeys.set(cacheKey, key);
  }
  return key;
}

/** Verifies with a base64url public key (a node id or gateway key). Malformed keys or signatures verify false. */
export async function webCryptoVerify(
  publicKeyB64Url: string,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  const raw = fromBase64(publicKeyB64Url);
  if (raw?.length !== 32 || signature.length !== 64) return false;
  try {
    return await crypto.subtle.verify(ALG, await publicKey(raw, publicKeyB64Url), signature, data);
  } catch {
    return false;
  }
}

export interface WebCryptoKeyPair {
  signer: Signer;
  publicKey: string;
}

/** Builds a signer from a 32-byte seed (base64url); `keyId` is derived by the caller from the public key. */
export async function webCryptoSignerFromSeed(
  seedB64Url: string,
  keyIdFor: (publicKey: string) => Promise<string> | string,
): Promise<WebCryptoKeyPair> {
  const seed = fromBase64(seedB64Url);
  if (seed?.length !== 32) throw new Error("an Ed25519 private key must be a 32-byte seed, base64url-encoded");
  const pkcs8 = new Uint8Array(PKCS8_ED25519_PREFIX.length + 32);
  pkcs8.set(PKCS8_ED25519_PREFIX);
  pkcs8.set(seed, PKCS8_ED25519_PREFIX.length);
  const key = await crypto.subtle.importKey("pkcs8", pkcs8, ALG, true, ["sign"]);
  const jwk = (await crypto.subtle.exportKey("jwk", key)) as { x?: string };
  if (!jwk.x) throw new Error("could not derive the Ed25519 public key");
  const publicKey = jwk.x;
  const keyId = await keyIdFor(publicKey);
  return {
    publicKey,
    signer: { keyId, sign: async (data) => new Uint8Array(await crypto.subtle.sign(ALG, key, data)) },
  };
}

export function newSeed(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

// API key tokens the gateway minted can be told from any other string without a lookup: each carries its key id, a
// random secret and an HMAC tag under API_KEY_SECRET. A token whose tag fails is refused in the isolate, so random
// tokens never reach a Durable Object. Legacy keys (`mg-` + 43 characters) carry no tag and are recognised as such.
import { concatBytes, constantTimeEqual, fromBase64, toBase64Url, utf8 } from "@meshgate/schemas";

export const TOKEN_PREFIX = "mg2-";
export const LEGACY_PREFIX = "mg-";
const ID_BYTES = 9;
const SECRET_BYTES = 32;
/** 128 bits: forging a tag takes ~2^128 guesses, each a request the isolate refuses without a lookup. */
const TAG_BYTES = 16;
const BODY_BYTES = ID_BYTES + SECRET_BYTES;
/** 57 bytes: a multiple of 3, so exactly 76 base64url characters and one canonical text per token. */
const TOKEN_CHARS = ((BODY_BYTES + TAG_BYTES) / 3) * 4;
const NEW_FORMAT = new RegExp(`^${TOKEN_PREFIX}[A-Za-z0-9_-]{${TOKEN_CHARS}}$`);
const LEGACY_FORMAT = new RegExp(`^${LEGACY_PREFIX}[A-Za-z0-9_-]{43}$`);
/** The shortest API_KEY_SECRET accepted: 256 bits, HMAC-SHA256's block-size-independent strength. */
export const MIN_SECRET_BYTES = 32;

export type ParsedToken =
  | { kind: "new"; id: string; body: Uint8Array; tag: Uint8Array }
  | { kind: "legacy" }
  | { kind: "malformed" };

export function keyIdOf(idBytes: Uint8Array): string {
  return "key_" + toBase64Url(idBytes);
}

/** What a token claims to be; "new" tokens still need verifyTag before anything else. */
export function parseToken(token: string): ParsedToken {
  if (LEGACY_FORMAT.test(token)) return { kind: "legacy" };
  if (!NEW_FORMAT.test(token)) return { kind: "malformed" };
  const bytes = fromBase64(token.slice(TOKEN_PREFIX.length));
  if (!bytes || bytes.length !== BODY_BYTES + TAG_BYTES) return { kind: "malformed" };
  const body = bytes.subarray(0, BODY_BYTES);
  return { kind: "new", id: keyIdOf(body.subarray(0, ID_BYTES)), body, tag: bytes.subarray(BODY_BYTES) };
}

/** The HMAC key of API_KEY_SECRET (base64url, at least 32 bytes), or null when it is missing or too short. */
export async function importKeySecret(secret: string | undefined): Promise<CryptoKey | null> {
  const raw = secret ? fromBase64(secret.trim()) : null;
  if (!raw || raw.length < MIN_SECRET_BYTES) return null;
  return await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

async function tagOf(key: CryptoKey, body: Uint8Array): Promise<Uint8Array> {
  // The prefix is signed too, so a tag can never be moved to a token of another format version.
  const mac = await crypto.subtle.sign("HMAC", key, concatBytes(utf8(TOKEN_PREFIX), body));
  return new Uint8Array(mac, 0, TAG_BYTES);
}

/** Constant-time: how much of a guessed tag was right never shows in the timing. */
export async function verifyTag(key: CryptoKey, token: { body: Uint8Array; tag: Uint8Array }): Promise<boolean> {
  return constantTimeEqual(await tagOf(key, token.body), token.tag);
}

/** A new token for id bytes and secret bytes the caller drew (9 and 32 random bytes). */
export async function mintToken(key: CryptoKey, idBytes: Uint8Array, secret: Uint8Array): Promise<string> {
  if (idBytes.length !== ID_BYTES || secret.length !== SECRET_BYTES) throw new Error("wrong id or secret length");
  const body = concatBytes(idBytes, secret);
  return TOKEN_PREFIX + toBase64Url(concatBytes(body, await tagOf(key, body)));
}

export const KEY_ID_BYTES = ID_BYTES;
export const KEY_SECRET_BYTES = SECRET_BYTES;

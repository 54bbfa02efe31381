// RFC 9530 Content-Digest, sha-256 only: the one algorithm both sides must support.
import { fromBase64, toBase64 } from "./base64.js";
import { constantTimeEqual, sha256 } from "./bytes.js";

/** A SHA-256 implementation; WebCrypto's by default, a synchronous native one where the runtime has it. */
export type Sha256 = (bytes: Uint8Array) => Uint8Array | Promise<Uint8Array>;

export async function contentDigest(body: Uint8Array): Promise<string> {
  return `sha-256=:${toBase64(await sha256(body))}:`;
}

/** True when the header carries a sha-256 digest equal to the body's. Other algorithms are ignored. */
export async function contentDigestMatches(header: string, body: Uint8Array, hash: Sha256 = sha256): Promise<boolean> {
  const match = /(?:^|,)\s*sha-256=:([A-Za-z0-9+/=]+):\s*(?:,|$)/.exec(header);
  if (!match?.[1]) return false;
  const claimed = fromBase64(match[1]);
  return claimed !== null && constantTimeEqual(claimed, await hash(body));
}

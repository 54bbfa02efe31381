// Checks a node's RFC 9421 signature before anything else about its request is read. The key travels in the
// `meshgate-node-key` header and must hash to the signature's keyid; whether it is the node's current key is the
// registry's decision, made atomically with the nonce check.
import { NODE_KEY_HEADER, nodeKeyVerifier, SignatureError, verifyRequest, webCryptoVerify } from "@meshgate/schemas";
import type { Refusal, VerifiedNodeSignature } from "../durable/node-registry/types.js";
import { HttpError } from "./http-error.js";

/** How far in the future a node's signature may be created (clock drift). */
export const NODE_SKEW_SECONDS = 30;
/** How old a node's signature may be, whatever its `expires` says. */
export const NODE_MAX_AGE_SECONDS = 60;

export async function verifyNodeSignature(
  request: Request,
  body: Uint8Array,
  now: number,
  what: string,
): Promise<VerifiedNodeSignature> {
  const publicKey = request.headers.get(NODE_KEY_HEADER);
  try {
    const verified = await verifyRequest({
      message: { method: request.method, url: request.url, headers: request.headers },
      body,
      policy: { now, maxSkewSeconds: NODE_SKEW_SECONDS, maxAgeSeconds: NODE_MAX_AGE_SECONDS },
      verify: nodeKeyVerifier(publicKey, webCryptoVerify),
    });
    // Past this instant the signature is refused as expired, so its nonce need not be remembered any longer.
    const validUntil = Math.min(verified.expires, verified.created + NODE_MAX_AGE_SECONDS) + 1;
    return {
      keyId: verified.keyId,
      publicKey: publicKey ?? "",
      nonce: verified.nonce,
      createdAt: verified.created * 1000,
      nonceExpiresAt: validUntil * 1000,
    };
  } catch (err) {
    if (!(err instanceof SignatureError)) throw err;
    const hint =
      err.code === "unknown_key"
        ? ` (send the public key in ${NODE_KEY_HEADER}; the keyid is its RFC 7638 thumbprint)`
        : "";
    throw new HttpError(401, `${what} refused: ${err.message}${hint}.`, { code: err.code });
  }
}

/** A registry refusal as the error the node sees. */
export function refusalError(what: string, refusal: Refusal, param: string | null = null): HttpError {
  const headers: Record<string, string> =
    refusal.retryAfterSeconds === undefined ? {} : { "retry-after": String(refusal.retryAfterSeconds) };
  return new HttpError(refusal.status, `${what} refused: ${refusal.message}.`, { code: refusal.code, param, headers });
}

/** A node's message carries its own clock reading; it must agree with ours as closely as its signature must. */
export function checkNodeClock(timestamp: number, now: number, what: string): void {
  if (Math.abs(timestamp - now) > NODE_SKEW_SECONDS * 1000) {
    throw new HttpError(401, `${what} refused: its timestamp is outside the allowed clock skew.`, {
      param: "timestamp",
      code: "stale_timestamp",
    });
  }
}

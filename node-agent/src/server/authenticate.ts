// Only the gateway may use this node: every request must carry the gateway's RFC 9421 signature, be fresh, and
// not be a replay of one already served. The headers are checked before the body is read, the body after.
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import {
  checkSignedBody,
  DISPATCH_NODE_HEADER,
  SignatureError,
  verifySignedHeaders,
  type FreshnessPolicy,
  type HttpMessage,
  type KeyVerifier,
  type VerifiedHeaders,
} from "@meshgate/schemas";
import type { NonceWindow } from "./nonce-window.js";

/** Synchronous native SHA-256: Node's WebCrypto digest round-trips through the thread pool on every request. */
const nodeSha256 = (bytes: Uint8Array): Uint8Array => createHash("sha256").update(bytes).digest();

export const MAX_SKEW_SECONDS = 30;
export const MAX_AGE_SECONDS = 60;

export interface GatewayAuth {
  verify: KeyVerifier;
  nonces: NonceWindow;
  now: () => number;
  /** Whether a dispatch addressed (signed) to this node id is ours to serve: a node serves only its own. */
  servesNode: (nodeId: string) => boolean;
}

export interface AuthFailure {
  code: string;
  message: string;
}

function headerGetter(req: IncomingMessage): HttpMessage["headers"] {
  return {
    get(name) {
      const value = req.headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
  };
}

/** The headers of a request the gateway signed for this node, fresh and new; its body is still to be checked. */
export interface SignedHeaders {
  /** The signed Content-Digest the body must match. */
  contentDigest: string;
}

/**
 * Everything the headers can tell, before a byte of the body is read: the signature covers what it must, its
 * parameters are fresh and name a gateway key, it verifies (the signature base is headers only; the body is bound
 * through the covered Content-Digest), the request is addressed to this node, and its nonce is new. A stranger is
 * refused here, so only the gateway can make this node read a body. The nonce is claimed now, so one captured
 * signature holds at most one connection past this point.
 */
export async function authenticateHeaders(
  req: IncomingMessage,
  auth: GatewayAuth,
): Promise<SignedHeaders | AuthFailure> {
  const host = req.headers.host;
  if (!host) return { code: "missing_component", message: "the Host header is required to check the signature" };
  const now = auth.now();
  const policy: FreshnessPolicy = { now, maxSkewSeconds: MAX_SKEW_SECONDS, maxAgeSeconds: MAX_AGE_SECONDS };
  let verified: VerifiedHeaders;
  try {
    const message: HttpMessage = {
      method: req.method ?? "",
      url: `http://${host}${req.url ?? "/"}`,
      headers: headerGetter(req),
    };
    verified = await verifySignedHeaders({
      message,
      policy,
      verify: auth.verify,
      requiredComponents: [DISPATCH_NODE_HEADER],
    });
  } catch (err) {
    if (err instanceof SignatureError) return { code: err.code, message: err.message };
    // e.g. a Host header that does not form a URL: as unverifiable as a bad signature.
    return { code: "malformed_signature", message: "the request could not be checked" };
  }
  // The node id is covered by the signature: a dispatch for another node (relayed, or sent to a URL someone else
  // registered) is refused.
  const addressee = req.headers[DISPATCH_NODE_HEADER];
  if (typeof addressee !== "string" || !auth.servesNode(addressee)) {
    return { code: "wrong_node", message: "this request was signed for another node" };
  }
  // Past this instant verifySignedHeaders refuses the signature anyway, so the nonce can be forgotten.
  const validUntilSeconds = Math.min(verified.expires, verified.created + MAX_AGE_SECONDS);
  if (!auth.nonces.claim(verified.nonce, (validUntilSeconds + 1) * 1000, now)) {
    return { code: "replayed_nonce", message: "this signed request was already received" };
  }
  return { contentDigest: verified.contentDigest };
}

/** Null when `body` is the one the gateway signed; otherwise why the request is refused. */
export async function checkBody(signed: SignedHeaders, body: Uint8Array): Promise<AuthFailure | null> {
  try {
    await checkSignedBody(signed.contentDigest, body, nodeSha256);
    return null;
  } catch (err) {
    if (err instanceof SignatureError) return { code: err.code, message: err.message };
    return { code: "bad_digest", message: "the body could not be checked against its digest" };
  }
}

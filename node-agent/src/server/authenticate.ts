// Only the gateway may use this node: every request must carry the gateway's RFC 9421 signature, be fresh, and
// not be a replay of one already served.
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { DISPATCH_NODE_HEADER, SignatureError, verifyRequest, type FreshnessPolicy, type HttpMessage, type KeyVerifier } from "@meshgate/schemas";
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

/** Resolves to null when the request is the gateway's, fresh and new; otherwise to why it is refused. */
export async function authenticate(req: IncomingMessage, body: Uint8Array, auth: GatewayAuth): Promise<AuthFailure | null> {
  const host = req.headers.host;
  if (!host) return { code: "missing_component", message: "the Host header is required to check the signature" };
  const now = auth.now();
  const policy: FreshnessPolicy = { now, maxSkewSeconds: MAX_SKEW_SECONDS, maxAgeSeconds: MAX_AGE_SECONDS };
  const message: HttpMessage = { method: req.method ?? "", url: `http://${host}${req.url ?? "/"}`, headers: headerGetter(req) };
  let nonce: string;
  let validUntilSeconds: number;
  try {
    const verified = await verifyRequest({ message, body, policy, verify: auth.verify, sha256: nodeSha256, requiredComponents: [DISPATCH_NODE_HEADER] });
    nonce = verified.nonce;
    validUntilSeconds = Math.min(verified.expires, verified.created + MAX_AGE_SECONDS);
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
  // Past this instant verifyRequest refuses the signature anyway, so the nonce can be forgotten.
  if (!auth.nonces.claim(nonce, (validUntilSeconds + 1) * 1000, now)) {
    return { code: "replayed_nonce", message: "this signed request was already received" };
  }
  return null;
}

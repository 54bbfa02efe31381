// Requests signed the way the two sides of the mesh sign them, for tests and tools that play one side: a node's
// messages to the gateway (heartbeats, rotations) and the gateway's dispatches to a node. Both go through the
// production signRequest, so a test cannot drift from the profile; only the headers each side adds live here.
import { utf8 } from "../signing/bytes.js";
import { NODE_KEY_HEADER } from "../signing/node-key.js";
import { DISPATCH_NODE_HEADER, signRequest, type Signer } from "../signing/request-signing.js";

interface SignedPost {
  /** The full URL the POST goes to (the signature covers its authority and path). */
  url: string;
  body: Uint8Array;
  signer: Signer;
  /** Milliseconds since the epoch; now by default. A time far in the past makes a stale signature. */
  now?: number | undefined;
  /** Headers to sign along with the rest; JSON's content type alone by default. Completed in place. */
  headers?: Headers | undefined;
}

export interface NodeSigning extends SignedPost {
  /** The node's current public key (base64url), sent as meshgate-node-key for the gateway to check the keyid. */
  publicKey: string;
}

export interface GatewaySigning extends SignedPost {
  /** The node the dispatch is addressed to, covered by the signature so it cannot be relayed to another. */
  nodeId: string;
  /** Sent as x-request-id when given, as the gateway's dispatches carry one. */
  requestId?: string | undefined;
}

/** A JSON value as the bytes a signed body carries. */
export function jsonBody(payload: unknown): Uint8Array {
  return utf8(JSON.stringify(payload));
}

function jsonHeaders(): Headers {
  return new Headers({ "content-type": "application/json" });
}

/** Signs a POST as a node agent signs one; returns the headers to send with `body`. */
export async function signNodeRequest(opts: NodeSigning): Promise<Headers> {
  const headers = opts.headers ?? jsonHeaders();
  headers.set(NODE_KEY_HEADER, opts.publicKey);
  await signRequest({
    method: "POST",
    url: opts.url,
    headers,
    body: opts.body,
    signer: opts.signer,
    now: opts.now ?? Date.now(),
  });
  return headers;
}

/** Signs a POST as the gateway signs a dispatch to `nodeId`; returns the headers to send with `body`. */
export async function signGatewayRequest(opts: GatewaySigning): Promise<Headers> {
  const headers = opts.headers ?? jsonHeaders();
  if (opts.requestId !== undefined) headers.set("x-request-id", opts.requestId);
  headers.set(DISPATCH_NODE_HEADER, opts.nodeId);
  await signRequest({
    method: "POST",
    url: opts.url,
    headers,
    body: opts.body,
    signer: opts.signer,
    now: opts.now ?? Date.now(),
    extraComponents: [DISPATCH_NODE_HEADER],
  });
  return headers;
}

/** Signs a node's session upgrade (GET, no body) as a node agent signs one; add `upgrade: websocket` to send it. */
export async function signSessionUpgrade(opts: {
  url: string;
  signer: Signer;
  publicKey: string;
  now?: number | undefined;
}): Promise<Headers> {
  const headers = new Headers({ [NODE_KEY_HEADER]: opts.publicKey });
  await signRequest({
    method: "GET",
    url: opts.url,
    headers,
    body: new Uint8Array(0),
    signer: opts.signer,
    now: opts.now ?? Date.now(),
  });
  return headers;
}

// The request that opens a session: `GET {session path}/{node id}` upgraded to a WebSocket, signed by the node key
// exactly like a heartbeat (empty body, the key in meshgate-node-key), so the gateway knows which node dials before
// it accepts. Signed afresh for every attempt: each carries a new nonce and a current `created`.
import { NODE_KEY_HEADER, SESSION_CONNECT_PATH, signRequest } from "@meshgate/schemas";
import type { NodeIdentity } from "../identity/node-identity.js";

export interface SessionUrls {
  /** The http(s) URL the signature covers (authority and path; the scheme is not signed). */
  signed: string;
  /** The same place as ws(s)://, for the WebSocket client. */
  socket: string;
}

/** Where a node opens its session: the gateway's advertised path (gateways name it in their metadata), or the default. */
export function sessionUrls(gatewayUrl: string, sessionPath: string | undefined, nodeId: string): SessionUrls {
  const signed = new URL(`${sessionPath ?? SESSION_CONNECT_PATH}/${nodeId}`, gatewayUrl);
  const socket = new URL(signed);
  socket.protocol = signed.protocol === "https:" ? "wss:" : "ws:";
  return { signed: signed.href, socket: socket.href };
}

/** The headers of a signed upgrade request: content-digest, signature-input, signature and meshgate-node-key. */
export async function signedUpgradeHeaders(
  identity: NodeIdentity,
  signedUrl: string,
  now: number = Date.now(),
): Promise<Record<string, string>> {
  const headers = new Headers({ [NODE_KEY_HEADER]: identity.publicKey });
  await signRequest({ method: "GET", url: signedUrl, headers, body: new Uint8Array(0), signer: identity.signer, now });
  return Object.fromEntries(headers);
}

// Heartbeats crafted by a test, signed exactly as a node agent signs them, so the gateway's checks can be probed
// with valid, tampered, replayed and stale messages.
import { newSeed, signRequest, utf8, webCryptoSignerFromSeed, type Heartbeat, type Signer } from "@meshgate/schemas";

export interface TestNode {
  /** The node id: its Ed25519 public key. */
  id: string;
  signer: Signer;
}

/** A fresh node identity. The gateway takes the signature's keyid as the node id, so the keyid is the public key. */
export async function newTestNode(): Promise<TestNode> {
  const { publicKey, signer } = await webCryptoSignerFromSeed(newSeed(), (pk) => pk);
  return { id: publicKey, signer };
}

export interface SignedRequest {
  url: string;
  headers: Headers;
  body: Uint8Array;
}

export interface HeartbeatFields {
  url: string;
  models: string[];
  seq: number;
  /** The node's clock, ms since the epoch; both the body's timestamp and the signature's `created` use it. */
  now?: number;
  capacity?: number;
}

export async function signedHeartbeat(gatewayUrl: string, node: TestNode, fields: HeartbeatFields): Promise<SignedRequest> {
  const now = fields.now ?? Date.now();
  const heartbeat: Heartbeat = {
    node_id: node.id,
    url: fields.url,
    models: fields.models.map((id) => ({ id })),
    capacity: fields.capacity ?? 8,
    in_flight: 0,
    timestamp: now,
    seq: fields.seq,
  };
  const url = `${gatewayUrl}/v1/nodes/heartbeat`;
  const body = utf8(JSON.stringify(heartbeat));
  const headers = new Headers({ "content-type": "application/json" });
  await signRequest({ method: "POST", url, headers, body, signer: node.signer, now });
  return { url, headers, body };
}

export function send(request: SignedRequest, body: Uint8Array = request.body): Promise<Response> {
  return fetch(request.url, { method: "POST", headers: request.headers, body });
}

// Node messages crafted by a test, signed exactly as a node agent signs them, so the gateway's checks can be probed
// with valid, tampered, replayed and stale messages; and the node's side of the endpoint challenge.
import {
  EndpointChallengeSchema,
  endpointProofStatement,
  jwkThumbprint,
  newSeed,
  NODE_KEY_HEADER,
  signRequest,
  toBase64Url,
  utf8,
  webCryptoSignerFromSeed,
  type EndpointProof,
  type Heartbeat,
  type Signer,
} from "@meshgate/schemas";
import { waitForNode } from "../../gateway/nodes.js";

export interface TestNode {
  /** The node id: the thumbprint of its first key. */
  id: string;
  /** The current key's public half (base64url), sent as meshgate-node-key. */
  publicKey: string;
  signer: Signer;
}

/** A fresh node identity: its id is its key's RFC 7638 thumbprint, which is also the keyid it signs with. */
export async function newTestNode(): Promise<TestNode> {
  const { publicKey, signer } = await webCryptoSignerFromSeed(newSeed(), jwkThumbprint);
  return { id: signer.keyId, publicKey, signer };
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

/** Signs `payload` as `node` would for a POST to `path` on the gateway. */
export async function signedNodeRequest(
  gatewayUrl: string,
  path: string,
  node: TestNode,
  payload: unknown,
  now = Date.now(),
): Promise<SignedRequest> {
  const url = `${gatewayUrl}${path}`;
  const body = utf8(JSON.stringify(payload));
  const headers = new Headers({ "content-type": "application/json", [NODE_KEY_HEADER]: node.publicKey });
  await signRequest({ method: "POST", url, headers, body, signer: node.signer, now });
  return { url, headers, body };
}

export function signedHeartbeat(gatewayUrl: string, node: TestNode, fields: HeartbeatFields): Promise<SignedRequest> {
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
  return signedNodeRequest(gatewayUrl, "/v1/nodes/heartbeat", node, heartbeat, now);
}

export function send(request: SignedRequest, body: Uint8Array = request.body): Promise<Response> {
  return fetch(request.url, { method: "POST", headers: request.headers, body });
}

/** The node's answer to the gateway's endpoint challenge, or null for a body that is not one addressed to `node`. */
export async function endpointProof(node: TestNode, publicUrl: string, body: string): Promise<EndpointProof | null> {
  let parsed: ReturnType<typeof EndpointChallengeSchema.safeParse>;
  try {
    parsed = EndpointChallengeSchema.safeParse(JSON.parse(body));
  } catch {
    return null;
  }
  if (!parsed.success || parsed.data.node_id !== node.id || parsed.data.url !== publicUrl) return null;
  const signature = await node.signer.sign(endpointProofStatement(parsed.data));
  return { object: "endpoint_proof", node_id: node.id, keyid: node.signer.keyId, signature: toBase64Url(signature) };
}

/** Registers a stand-in node (one that answers challenges with endpointProof) and waits until it gets traffic. */
export async function registerProvenNode(gatewayUrl: string, node: TestNode, fields: HeartbeatFields): Promise<void> {
  const response = await send(await signedHeartbeat(gatewayUrl, node, fields));
  if (response.status !== 200) throw new Error(`heartbeat refused: ${response.status} ${await response.text()}`);
  await waitForNode(gatewayUrl, node.id, 15_000);
}

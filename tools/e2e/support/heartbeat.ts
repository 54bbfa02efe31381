// Node messages crafted by a test, signed exactly as a node agent signs them, so the gateway's checks can be probed
// with valid, tampered, replayed and stale messages; and the node's side of the endpoint challenge.
import {
  EndpointChallengeSchema,
  endpointProofStatement,
  toBase64Url,
  type EndpointProof,
  type Heartbeat,
} from "@meshgate/schemas";
import { jsonBody, signNodeRequest, type TestIdentity } from "@meshgate/schemas/testing";
import { waitForNode } from "../../gateway/nodes.js";

export { newTestNode } from "@meshgate/schemas/testing";
export type TestNode = TestIdentity;

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
  const body = jsonBody(payload);
  const headers = await signNodeRequest({ url, body, publicKey: node.publicKey, signer: node.signer, now });
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

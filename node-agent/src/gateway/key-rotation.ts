// Asks the gateway to move this node to a new key: the request is signed by the current key, and carries the new
// key's signature over the rotation statement, so the gateway knows both keys consent.
import {
  KEY_ROTATION_PATH,
  KeyRotationAckSchema,
  keyRotationStatement,
  NODE_KEY_HEADER,
  publicJwk,
  signRequest,
  toBase64Url,
  utf8,
  type KeyRotationAck,
  type KeyRotationRequest,
} from "@meshgate/schemas";
import type { NodeIdentity } from "../identity/node-identity.js";
import { readErrorResponse } from "./error-response.js";

const REQUEST_TIMEOUT_MS = 10_000;

/** The gateway answered and refused (4xx): the rotation did not happen. Anything else leaves it undecided. */
export class RotationRefused extends Error {}

export async function requestKeyRotation(
  gatewayUrl: string,
  current: NodeIdentity,
  next: NodeIdentity,
  now = Date.now(),
): Promise<KeyRotationAck> {
  const statement = keyRotationStatement({
    node_id: current.nodeId,
    old_keyid: current.signer.keyId,
    new_keyid: next.signer.keyId,
    timestamp: now,
  });
  const rotation: KeyRotationRequest = {
    node_id: current.nodeId,
    new_key: publicJwk(next.publicKey),
    timestamp: now,
    new_key_signature: toBase64Url(await next.signer.sign(statement)),
  };
  const url = new URL(KEY_ROTATION_PATH, gatewayUrl).href;
  const body = utf8(JSON.stringify(rotation));
  const headers = new Headers({ "content-type": "application/json", [NODE_KEY_HEADER]: current.publicKey });
  await signRequest({ method: "POST", url, headers, body, signer: current.signer, now });
  const res = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (!res.ok) {
    const message = `the gateway refused the rotation: ${(await readErrorResponse(res)).description}`;
    throw res.status < 500 ? new RotationRefused(message) : new Error(message);
  }
  const ack = KeyRotationAckSchema.safeParse(await res.json());
  if (!ack.success || ack.data.keyid !== next.signer.keyId)
    throw new Error("the gateway sent a malformed rotation ack");
  return ack.data;
}

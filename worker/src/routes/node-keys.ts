// POST /v1/nodes/rotate-key: a node moves to a new key. The request is signed by the old key (HTTP signature) and the
// body carries the new key's signature over the rotation statement, so both keys consent. The node id stays.
import {
  fromBase64,
  jwkThumbprint,
  keyRotationStatement,
  KeyRotationRequestSchema,
  SessionClose,
  webCryptoVerify,
  type KeyRotationAck,
} from "@meshgate/schemas";
import { nodeRegistry, nodeSession } from "../durable/names.js";
import { HttpError } from "../http/http-error.js";
import { parseJson, readBody } from "../http/json-body.js";
import { checkNodeClock, refusalError, verifyNodeSignature } from "../http/node-signature.js";
import { invalidateNodeSnapshot } from "../mesh/node-snapshot.js";

const MAX_ROTATION_BYTES = 16 * 1024;

export async function rotateKeyRoute(request: Request, env: Env): Promise<Response> {
  const now = Date.now();
  const body = await readBody(request, MAX_ROTATION_BYTES);
  const signature = await verifyNodeSignature(request, body, now, "Key rotation");
  const rotation = parseJson(body, KeyRotationRequestSchema);
  checkNodeClock(rotation.timestamp, now, "Key rotation");
  const newKeyId = await jwkThumbprint(rotation.new_key.x);
  const statement = keyRotationStatement({
    node_id: rotation.node_id,
    old_keyid: signature.keyId,
    new_keyid: newKeyId,
    timestamp: rotation.timestamp,
  });
  const newSignature = fromBase64(rotation.new_key_signature);
  if (!newSignature || !(await webCryptoVerify(rotation.new_key.x, newSignature, statement))) {
    throw new HttpError(
      401,
      "Key rotation refused: new_key_signature is not the new key's signature over the rotation statement.",
      {
        param: "new_key_signature",
        code: "bad_signature",
      },
    );
  }
  const result = await nodeRegistry(env).rotateKey(
    { nodeId: rotation.node_id, signature, newKeyId, newPublicKey: rotation.new_key.x },
    now,
  );
  if (!result.ok) throw refusalError("Key rotation", result.refusal);
  // A session opened with the old key is closed at once; the agent reconnects with the new one.
  await nodeSession(env, rotation.node_id).end(SessionClose.keyRotated, "this node's key was rotated");
  invalidateNodeSnapshot();
  const ack: KeyRotationAck = {
    object: "node.key_rotation",
    node_id: rotation.node_id,
    keyid: newKeyId,
    previous_keyid: signature.keyId,
  };
  return Response.json(ack);
}

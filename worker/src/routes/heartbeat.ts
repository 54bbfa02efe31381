// POST /v1/nodes/heartbeat: a node registers and stays live. The signature is checked before the body is parsed.
import { HeartbeatSchema, HEARTBEAT_INTERVAL_MS, SignatureError, verifyRequest, webCryptoVerify, type HeartbeatAck } from "@meshgate/schemas";
import { nodeRegistry } from "../durable/names.js";
import { HttpError } from "../http/http-error.js";
import { parseJson, readBody } from "../http/json-body.js";
import { invalidateNodeSnapshot } from "../mesh/node-snapshot.js";

const MAX_HEARTBEAT_BYTES = 64 * 1024;
/** A heartbeat's own timestamp and its signature may be this far from the gateway's clock. */
export const HEARTBEAT_SKEW_SECONDS = 30;

export async function heartbeatRoute(request: Request, env: Env): Promise<Response> {
  const now = Date.now();
  const body = await readBody(request, MAX_HEARTBEAT_BYTES);
  let keyId: string;
  try {
    // A node id is its public key, so the keyid names the key to verify with; no lookup can be forged.
    ({ keyId } = await verifyRequest({
      message: { method: request.method, url: request.url, headers: request.headers },
      body,
      policy: { now, maxSkewSeconds: HEARTBEAT_SKEW_SECONDS, maxAgeSeconds: 2 * HEARTBEAT_SKEW_SECONDS },
      verify: (key, data, signature) => webCryptoVerify(key, signature, data),
    }));
  } catch (err) {
    if (err instanceof SignatureError) throw new HttpError(401, `Heartbeat refused: ${err.message}.`, { code: err.code });
    throw err;
  }
  const heartbeat = parseJson(body, HeartbeatSchema);
  if (heartbeat.node_id !== keyId) {
    throw new HttpError(401, "Heartbeat refused: node_id does not match the signing key.", { param: "node_id", code: "key_mismatch" });
  }
  if (Math.abs(heartbeat.timestamp - now) > HEARTBEAT_SKEW_SECONDS * 1000) {
    throw new HttpError(401, "Heartbeat refused: its timestamp is outside the allowed clock skew.", { param: "timestamp", code: "stale_heartbeat" });
  }
  const result = await nodeRegistry(env).heartbeat(heartbeat, now);
  if (!result.ok) throw new HttpError(409, `Heartbeat refused: ${result.message}.`, { param: "seq", code: result.code });
  if (result.registered) invalidateNodeSnapshot();
  const ack: HeartbeatAck = { object: "heartbeat.ack", node_id: heartbeat.node_id, seq: heartbeat.seq, registered: result.registered, interval_ms: HEARTBEAT_INTERVAL_MS };
  return Response.json(ack);
}

// POST /v1/nodes/heartbeat: a node registers and stays live. The signature is checked before the body is parsed.
import {
  HeartbeatSchema,
  HEARTBEAT_INTERVAL_MS,
  type Heartbeat,
  type HeartbeatAck,
  type PriceCeilings,
} from "@meshgate/schemas";
import { priceOverCeiling, priceOverCeilingMessage } from "../billing/price-ceiling.js";
import { nodeRegistry } from "../durable/names.js";
import { HttpError } from "../http/http-error.js";
import { parseJson, readBody } from "../http/json-body.js";
import { registrationSource } from "../limits/new-identities.js";
import { priceCeilings } from "../http/price-ceilings.js";
import { checkNodeClock, refusalError, verifyNodeSignature } from "../http/node-signature.js";
import { proveEndpoint } from "../mesh/endpoint-proof.js";
import { invalidateNodeSnapshot } from "../mesh/node-snapshot.js";
import { checkNodeUrl, nodeUrlPolicy } from "../limits/node-url-policy.js";

const MAX_HEARTBEAT_BYTES = 64 * 1024;

/** A node may not advertise a price above the operator's ceiling for the model: refused, naming the ceiling. */
function checkPrices(heartbeat: Heartbeat, ceilings: PriceCeilings): void {
  const over = priceOverCeiling(heartbeat.models, ceilings);
  if (over)
    throw new HttpError(400, `Heartbeat refused: ${priceOverCeilingMessage(over)}.`, {
      param: `models[${over.index}].price`,
      code: "price_above_ceiling",
    });
}

export async function heartbeatRoute(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const now = Date.now();
  const body = await readBody(request, MAX_HEARTBEAT_BYTES);
  const signature = await verifyNodeSignature(request, body, now, "Heartbeat");
  const heartbeat = parseJson(body, HeartbeatSchema);
  checkNodeClock(heartbeat.timestamp, now, "Heartbeat");
  checkPrices(heartbeat, priceCeilings(env));
  const urlRefusal = checkNodeUrl(heartbeat.url, nodeUrlPolicy(env));
  if (urlRefusal)
    throw new HttpError(400, `Heartbeat refused: ${urlRefusal.message}.`, { param: "url", code: urlRefusal.code });

  // Cloudflare sets CF-Connecting-IP on every request it forwards; a client cannot choose it.
  const source = registrationSource(request.headers.get("cf-connecting-ip"));
  const result = await nodeRegistry(env).heartbeat(heartbeat, signature, now, source);
  if (!result.ok)
    throw refusalError("Heartbeat", result.refusal, result.refusal.code === "replayed_heartbeat" ? "seq" : null);
  // The node is not routed to until it proves it answers at its URL; the proof runs after the ack is sent.
  if (result.challenge)
    ctx.waitUntil(
      proveEndpoint(env, {
        id: heartbeat.node_id,
        url: heartbeat.url,
        publicKey: signature.publicKey,
        keyId: signature.keyId,
      }),
    );
  if (result.registered) invalidateNodeSnapshot();
  const ack: HeartbeatAck = {
    object: "heartbeat.ack",
    node_id: heartbeat.node_id,
    seq: heartbeat.seq,
    registered: result.registered,
    status: result.status,
    interval_ms: HEARTBEAT_INTERVAL_MS,
  };
  return Response.json(ack);
}

// GET /.well-known/meshgate.json: the gateway's public keys (current, and the previous one during a rotation), so
// agents can verify dispatches, and the price ceilings they may charge up to.
import { HEARTBEAT_INTERVAL_MS, NODE_TTL_MS, SESSION_CONNECT_PATH, type GatewayMetadata } from "@meshgate/schemas";
import { priceCeilings } from "../http/price-ceilings.js";
import { gatewayKeys } from "../mesh/gateway-keys.js";

/** Short, so a rotation reaches agents' caches quickly; agents also refetch at once on an unknown keyid. */
const MAX_AGE_SECONDS = 60;

export async function wellKnownRoute(_request: Request, env: Env): Promise<Response> {
  const body: GatewayMetadata = {
    issuer: "meshgate",
    keys: await gatewayKeys(env, Date.now()),
    heartbeat_path: "/v1/nodes/heartbeat",
    session_path: SESSION_CONNECT_PATH,
    heartbeat_interval_ms: HEARTBEAT_INTERVAL_MS,
    node_ttl_ms: NODE_TTL_MS,
    price_ceilings: priceCeilings(env),
  };
  return Response.json(body, { headers: { "cache-control": `public, max-age=${MAX_AGE_SECONDS}` } });
}

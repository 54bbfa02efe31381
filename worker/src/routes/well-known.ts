// GET /.well-known/meshgate.json: the gateway's public signing key, so agents can verify dispatches.
import { HEARTBEAT_INTERVAL_MS, NODE_TTL_MS, publicJwk, type GatewayMetadata } from "@meshgate/schemas";
import { gatewayIdentity } from "../mesh/gateway-identity.js";

export async function wellKnownRoute(_request: Request, env: Env): Promise<Response> {
  const identity = await gatewayIdentity(env);
  const body: GatewayMetadata = {
    issuer: "meshgate",
    signing_key: { keyid: identity.signer.keyId, alg: "ed25519", public_key: identity.publicKey, jwk: publicJwk(identity.publicKey) },
    heartbeat_path: "/v1/nodes/heartbeat",
    heartbeat_interval_ms: HEARTBEAT_INTERVAL_MS,
    node_ttl_ms: NODE_TTL_MS,
  };
  return Response.json(body, { headers: { "cache-control": "public, max-age=60" } });
}

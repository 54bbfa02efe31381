// GET /v1/mesh/status: the public figures the status page shows (live nodes, models, the last hour's traffic). No key:
// it says nothing about any client, and it is cached so any number of readers cost the registry next to nothing.
import { currentMeshStatus, STATUS_TTL_MS } from "../mesh/mesh-status.js";

export async function meshStatusRoute(_request: Request, env: Env): Promise<Response> {
  const status = await currentMeshStatus(env, Date.now());
  return Response.json(status, { headers: { "cache-control": `public, max-age=${STATUS_TTL_MS / 1000}` } });
}

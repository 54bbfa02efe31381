// GET /v1/models and /v1/models/{id}: every model some live node serves, in OpenAI's list shape with what clients
// choose by (node count, context length, price, measured time to first token; catalog/model-catalog.ts). Served from
// the mesh status (mesh/mesh-status.ts): a few seconds old at most, and never a read of every node.
import type { ModelObject } from "@meshgate/schemas";
import { authenticate } from "../http/auth.js";
import { HttpError } from "../http/http-error.js";
import type { GatewayRequest } from "../http/request-id.js";
import { currentMeshStatus } from "../mesh/mesh-status.js";

async function liveModels(request: Request, env: Env, ctx: ExecutionContext): Promise<ModelObject[]> {
  const now = Date.now();
  await authenticate(request, env, now, ctx);
  return (await currentMeshStatus(env, now)).models;
}

export async function listModelsRoute(request: GatewayRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  return Response.json({ object: "list", data: await liveModels(request, env, ctx) });
}

function modelIdParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, "The model id in the URL is not valid percent-encoding.", {
      param: "model",
      code: "invalid_value",
    });
  }
}

export async function getModelRoute(request: GatewayRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const models = await liveModels(request, env, ctx);
  const id = modelIdParam(request.params["id"] ?? "");
  const model = models.find((m) => m.id === id);
  if (!model)
    throw new HttpError(404, `The model \`${id}\` does not exist or you do not have access to it.`, {
      param: "model",
      code: "model_not_found",
    });
  return Response.json(model);
}

// GET /v1/models and /v1/models/{id}: every model some live node serves, in OpenAI's list shape.
import type { ModelObject } from "@meshgate/schemas";
import { authenticate } from "../http/auth.js";
import { HttpError } from "../http/http-error.js";
import type { GatewayRequest } from "../http/request-id.js";
import { nodeSnapshot, type NodeSnapshot } from "../mesh/node-snapshot.js";

export function modelsOf(snapshot: NodeSnapshot): ModelObject[] {
  const models = new Map<string, ModelObject>();
  for (const node of snapshot.nodes) {
    for (const m of node.models) {
      const created = Math.floor(node.registered / 1000);
      const existing = models.get(m.id);
      if (!existing) {
        models.set(m.id, { id: m.id, object: "model", created, owned_by: m.owned_by ?? "meshgate", nodes: 1 });
      } else {
        existing.nodes++;
        existing.created = Math.min(existing.created, created);
      }
    }
  }
  return [...models.values()].sort((a, b) => a.id.localeCompare(b.id));
}

async function liveModels(request: Request, env: Env, ctx: ExecutionContext): Promise<ModelObject[]> {
  const now = Date.now();
  await authenticate(request, env, now);
  return modelsOf(await nodeSnapshot(env, ctx, now));
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

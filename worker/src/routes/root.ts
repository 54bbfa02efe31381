// GET /: what answers here, for someone who opens the gateway's URL in a browser or curls it first: the name and
// version, where the OpenAI-compatible API starts, and links to the docs, the model list, the gateway's metadata and
// the API's OpenAPI description and the web pages.
import type { RootInfo } from "@meshgate/schemas";
import workerPackage from "../../package.json" with { type: "json" };

export function rootRoute(request: Request, env: Env): Response {
  const at = (path: string) => new URL(path, request.url).href;
  const body: RootInfo = {
    name: "Meshgate",
    version: workerPackage.version,
    description: "An OpenAI-compatible API answered by a mesh of community inference nodes.",
    openai_base_url: at("/v1"),
    links: {
      docs: env.DOCS_URL || null,
      models: at("/v1/models"),
      metadata: at("/.well-known/meshgate.json"),
      openapi: at("/openapi.json"),
      status: at("/status"),
      usage: at("/usage"),
    },
  };
  return Response.json(body);
}

// GET /: what answers here, for someone who opens the gateway's URL in a browser or curls it first: the name and
// version, where the OpenAI-compatible API starts, and links to the docs, the model list, the gateway's metadata and
// the web pages.
import workerPackage from "../../package.json" with { type: "json" };

export interface RootInfo {
  name: "Meshgate";
  version: string;
  description: string;
  /** The base URL to give an OpenAI SDK. */
  openai_base_url: string;
  links: {
    /** DOCS_URL (see .dev.vars.example), e.g. the repository's README; null while it is unset. */
    docs: string | null;
    models: string;
    metadata: string;
    /** The mesh status page (public). */
    status: string;
    /** The usage page: a key holder's spend and tokens, the key kept in the browser. */
    usage: string;
  };
}

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
      status: at("/status"),
      usage: at("/usage"),
    },
  };
  return Response.json(body);
}

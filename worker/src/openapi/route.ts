// GET /openapi.json: the API's description, for OpenAPI viewers and client generators. Public; it changes only with a
// deploy, so caches may keep it a few minutes.
import { openApiDocument } from "./document.js";

const MAX_AGE_SECONDS = 300;

let text: string | null = null;

export function openApiRoute(): Response {
  text ??= JSON.stringify(openApiDocument());
  return new Response(text, {
    headers: { "content-type": "application/json", "cache-control": `public, max-age=${MAX_AGE_SECONDS}` },
  });
}

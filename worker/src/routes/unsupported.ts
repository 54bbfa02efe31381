// Endpoints of OpenAI's API that Meshgate does not serve, answered with an error that says so and what to use instead,
// rather than the generic "Invalid URL" (clients such as the Vercel AI SDK call the Responses API by default).
import type { IRequest } from "itty-router";
import { HttpError } from "../http/http-error.js";

/** Any method on /v1/responses and below (create, retrieve, cancel, input items). */
export function responsesApiRoute(request: IRequest): never {
  const what = `${request.method} ${new URL(request.url).pathname}`;
  throw new HttpError(
    404,
    `Meshgate does not support the Responses API (${what}) yet; use POST /v1/chat/completions instead (in the Vercel AI SDK: openai.chat(model) or @ai-sdk/openai-compatible).`,
    { type: "invalid_request_error", code: "unsupported_endpoint" },
  );
}

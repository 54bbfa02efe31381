// The stateful parts of OpenAI's Responses API, answered with an error that says what Meshgate does instead rather than
// the generic "Invalid URL": the gateway keeps no response and no conversation text, so there is nothing to retrieve,
// cancel, delete or list. POST /v1/responses itself is served (inference.ts).
import type { IRequest } from "itty-router";
import { HttpError } from "../http/http-error.js";

/** Any method on /v1/responses/{id} and below (retrieve, delete, cancel, input items), and any but POST on the list. */
export function storedResponsesRoute(request: IRequest): never {
  const what = `${request.method} ${new URL(request.url).pathname}`;
  throw new HttpError(
    400,
    `Meshgate does not store responses (${what}): no prompt or completion text is kept, so a response cannot be ` +
      "retrieved, cancelled or listed. Send the whole conversation in `input` with each POST /v1/responses.",
    { param: "response_id", code: "unsupported_stateful_feature" },
  );
}

// The whole Response for a client that did not stream, from the Responses events of a node that serves the API
// itself: the `response` its last event (`response.completed` or `response.incomplete`) carries, as OpenAI's SDKs
// take it. That object is all the client receives, so it is what bounds what the node is paid (assembled-answer.ts),
// not the deltas before it.
import { RESPONSES_DIALECT } from "@meshgate/schemas";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export class ResponseAssembler {
  /** The first error event (`error`, `response.failed`) the stream carried: the answer is this, not a Response. */
  error: Json | null = null;
  private final: Json | null = null;

  add(value: unknown): void {
    if (RESPONSES_DIALECT.isError(value)) this.error ??= isObject(value) ? value : { error: value };
    else if (RESPONSES_DIALECT.isLast(value) && isObject(value) && isObject(value["response"]))
      this.final = value["response"];
  }

  /** The Response object; null when no last event carried one. */
  result(): Json | null {
    return this.final;
  }
}

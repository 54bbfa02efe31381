// The answer to a Responses API request: the node's Chat Completions answer, metered as any chat answer is, then
// translated for the client (responses/): a stream into OpenAI's Responses events, a whole answer into a Response.
import type { ResponsesRequest } from "@meshgate/schemas";
import { utf8 } from "@meshgate/schemas";
import { responseFromChat } from "../responses/response-object.js";
import type { ResponseIds } from "../responses/response-shell.js";
import { chatToResponsesStream } from "../responses/sse.js";

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The response is named after the request (`req_<hex>` → `resp_<hex>`), so a log line finds both. */
export function responseIds(requestId: string, startedAt: number): ResponseIds {
  return {
    responseId: `resp_${requestId.replace(/^req_/, "")}`,
    createdAt: Math.floor(startedAt / 1000),
    now: () => Math.floor(Date.now() / 1000),
    newItemId: (prefix) => `${prefix}_${randomHex(16)}`,
  };
}

/** The client's stream: the metered chat stream, translated event by event. */
export function responsesStream(
  chat: ReadableStream<Uint8Array>,
  req: ResponsesRequest,
  ids: ResponseIds,
): ReadableStream<Uint8Array> {
  return chat.pipeThrough(chatToResponsesStream(req, ids));
}

/** The client's whole answer: the `chat.completion` assembled from the node's stream, as a Response object. */
export function responsesBody(chat: Uint8Array, req: ResponsesRequest, ids: ResponseIds): Uint8Array {
  const completion: unknown = JSON.parse(new TextDecoder().decode(chat));
  return utf8(JSON.stringify(responseFromChat(completion, req, ids)));
}

// POST /v1/responses served natively (stateless), as vLLM and Ollama 0.13.3+ serve it: the request read as the
// Responses API, answered by the chat endpoint's own deterministic reply and tool calls, and written as a Response
// object or as the Responses API's events. The gateway's pure translation (worker/src/responses/) does the mapping,
// so the two endpoints answer one conversation alike.
import { ResponsesRequestSchema, type ResponsesRequest } from "@meshgate/schemas";
import { chatRequestFrom } from "../../worker/src/responses/chat-request.js";
import { ResponsesEventStream } from "../../worker/src/responses/event-stream.js";
import { responseFromChat } from "../../worker/src/responses/response-object.js";
import type { ResponseIds } from "../../worker/src/responses/response-shell.js";
import { chatCompletion } from "./chat.js";
import { ApiError, type JsonObject } from "./http-io.js";
import { responseId, unixSeconds, type SimResponse } from "./responses.js";

export const RESPONSES_PATH = "/v1/responses";

function idsFor(): ResponseIds {
  return {
    responseId: `resp_${responseId("r").replaceAll("-", "")}`,
    createdAt: unixSeconds(),
    now: unixSeconds,
    newItemId: (prefix) => `${prefix}_${responseId("i").replaceAll("-", "")}`,
  };
}

function requestOf(body: JsonObject): ResponsesRequest {
  const parsed = ResponsesRequestSchema.safeParse(body);
  if (!parsed.success)
    throw new ApiError(400, `Invalid Responses request: ${parsed.error.message}`, "invalid_request_error", "invalid");
  return parsed.data;
}

export function nativeResponse(body: JsonObject, model: string, contextLength?: number): SimResponse {
  const req = requestOf(body);
  const chat = chatRequestFrom(req);
  if (!chat.ok) throw new ApiError(400, chat.refusal.message, "invalid_request_error", chat.refusal.code);
  const answer = chatCompletion(chat.value as JsonObject, model, contextLength);
  const ids = idsFor();
  if (answer.kind === "json") return { kind: "json", body: responseFromChat(answer.body, req, ids) };
  const stream = new ResponsesEventStream(req, ids);
  const events: unknown[] = stream.start();
  for (const chunk of answer.events) events.push(...stream.push(chunk));
  events.push(...stream.end());
  return { kind: "stream", events, format: "responses" };
}

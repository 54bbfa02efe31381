// A node's whole Chat Completions answer as a Response object. Each item's id carries the item (item-ids.ts), so a
// later request may refer to it by id alone.
import type {
  FunctionCallItem,
  OutputContentPart,
  OutputItem,
  ResponseObject,
  ResponsesRequest,
} from "@meshgate/schemas";
import { functionCallItemId, messageItemId } from "./item-ids.js";
import { logprobsFromChat } from "./logprobs.js";
import { finishFromChat, reasoningFromChat, responseShell, usageFromChat, type ResponseIds } from "./response-shell.js";
import { answerChoice, record, type Json } from "./json.js";

/** Text a server may send as a string or (rarely) as text parts. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => (typeof record(p)["text"] === "string" ? (record(p)["text"] as string) : "")).join("");
}

function messageParts(message: Json, logprobs: unknown): OutputContentPart[] {
  const parts: OutputContentPart[] = [];
  const text = textOf(message["content"]);
  if (text !== "") parts.push({ type: "output_text", text, annotations: [], logprobs: logprobsFromChat(logprobs) });
  if (typeof message["refusal"] === "string" && message["refusal"] !== "") {
    parts.push({ type: "refusal", refusal: message["refusal"] });
  }
  return parts;
}

function functionCalls(message: Json, status: FunctionCallItem["status"], ids: ResponseIds): FunctionCallItem[] {
  const calls = Array.isArray(message["tool_calls"]) ? message["tool_calls"] : [];
  return calls.map((raw, i) => {
    const call = record(raw);
    const fn = record(call["function"]);
    const fields = {
      // A server that names no call id still needs one for the client to answer by: made unique per answer.
      call_id: typeof call["id"] === "string" && call["id"] !== "" ? call["id"] : `call_${ids.responseId}_${i}`,
      name: typeof fn["name"] === "string" ? fn["name"] : "",
      arguments: typeof fn["arguments"] === "string" ? fn["arguments"] : "",
    };
    return { type: "function_call", id: functionCallItemId(fields) ?? ids.newItemId("fc"), ...fields, status };
  });
}

/** The Response for a node's `chat.completion` (one choice: the gateway never sends `n`). */
export function responseFromChat(completion: unknown, req: ResponsesRequest, ids: ResponseIds): ResponseObject {
  const answer = record(completion);
  const choice = answerChoice(answer["choices"]);
  const message = record(choice["message"]);
  const finish = finishFromChat(choice["finish_reason"]);
  const output: OutputItem[] = [];
  const reasoning = reasoningFromChat(message);
  if (reasoning !== "") {
    const content = [{ type: "reasoning_text" as const, text: reasoning }];
    output.push({ type: "reasoning", id: ids.newItemId("rs"), status: "completed", summary: [], content });
  }
  const parts = messageParts(message, choice["logprobs"]);
  if (parts.length > 0) {
    const id = messageItemId(parts) ?? ids.newItemId("msg");
    output.push({ type: "message", id, status: finish.itemStatus, role: "assistant", content: parts });
  }
  output.push(...functionCalls(message, finish.itemStatus, ids));
  const model = typeof answer["model"] === "string" && answer["model"] !== "" ? answer["model"] : req.model;
  return {
    ...responseShell(req, ids, model),
    status: finish.status,
    incomplete_details: finish.incomplete_details,
    completed_at: finish.status === "completed" ? ids.now() : null,
    output,
    usage: usageFromChat(answer["usage"]),
  };
}

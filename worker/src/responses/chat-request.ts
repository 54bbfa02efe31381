// A Responses request as the Chat Completions body a node serves. Every field of OpenAI's CreateResponse is decided
// here: translated, passed through under the same name, ignored (said below), or refused with the field named.
import type { ResponsesRequest, ResponsesTextFormat, ResponsesTool } from "@meshgate/schemas";
import { invalid, ok, refuse, type Invalid, type Result } from "../lib/refusal.js";
import { chatMessagesFrom } from "./input-messages.js";
import type { Json } from "./json.js";

export type ChatRequestBody = Json & { model: string; messages: Json[] };

const UNSUPPORTED = "unsupported_parameter";
const NO_STATE = "this gateway stores no conversation state";

/** Fields that need OpenAI's stored state or services: refused whenever they ask for anything. */
const STATEFUL_FIELDS: readonly (readonly [string, string])[] = [
  ["previous_response_id", `previous_response_id is not supported: ${NO_STATE}; send the whole conversation in input`],
  ["conversation", `conversation is not supported: ${NO_STATE}; send the whole conversation in input`],
  ["prompt", "prompt (a stored prompt template) is not supported: send instructions and input instead"],
  ["context_management", `context_management is not supported: ${NO_STATE}`],
  ["moderation", "moderation is not supported: the gateway runs no moderation model"],
];

/**
 * Same name, same meaning in Chat Completions: passed on as they are. Meshgate's routing controls (`provider`,
 * `models`) are kept so the chat path reads (and strips) them as it does for chat requests; OpenRouter's `route`,
 * which Meshgate does not read, goes on as a chat request's would.
 */
const PASSED_THROUGH = [
  "temperature",
  "top_p",
  "parallel_tool_calls",
  "user",
  "safety_identifier",
  "prompt_cache_key",
  "prompt_cache_retention",
  "service_tier",
  "provider",
  "models",
  "route",
] as const;

// Ignored, with reasons: `store` (nothing is stored; the answer says store: false), `metadata` (echoed in the answer,
// not the node's business), `include` (asks for output this gateway never has: encrypted reasoning, search results;
// logprobs follow `top_logprobs`), `truncation` (echoed; a node refuses a prompt too long for it),
// `stream_options` (only include_obfuscation, which the gateway does not do), `prompt_cache_options`,
// `reasoning.summary` (chat servers give no summaries), `background: false`.
// Any field OpenAI does not define is not sent either: the node is asked only what this translation understood.

function refuseStateful(req: ResponsesRequest): Invalid | null {
  for (const [field, message] of STATEFUL_FIELDS) {
    if (req[field] !== undefined && req[field] !== null) return invalid(field, message, UNSUPPORTED);
  }
  if (req["background"] === true) {
    return invalid(
      "background",
      `background is not supported: ${NO_STATE}, so a response cannot be fetched later`,
      UNSUPPORTED,
    );
  }
  return null;
}

function chatTools(tools: readonly ResponsesTool[]): Result<Json[], Invalid> {
  const out: Json[] = [];
  for (const [i, tool] of tools.entries()) {
    if (tool.type !== "function") {
      return refuse(
        invalid(
          `tools[${i}].type`,
          `${tool.type} tools are not supported: built-in tools run on OpenAI's servers; only function tools are`,
          UNSUPPORTED,
        ),
      );
    }
    if (tool.name === undefined) return refuse(invalid(`tools[${i}].name`, "a function tool needs a name"));
    const fn: Json = { name: tool.name };
    if (typeof tool.description === "string") fn["description"] = tool.description;
    if (tool.parameters != null) fn["parameters"] = tool.parameters;
    if (tool.strict != null) fn["strict"] = tool.strict;
    out.push({ type: "function", function: fn });
  }
  return ok(out);
}

function chatToolChoice(choice: unknown): Result<unknown, Invalid> {
  if (choice === "auto" || choice === "none" || choice === "required") return ok(choice);
  const c = (typeof choice === "object" && choice !== null ? choice : {}) as Json;
  if (c["type"] === "function" && typeof c["name"] === "string") {
    return ok({ type: "function", function: { name: c["name"] } });
  }
  return refuse(
    invalid("tool_choice", 'tool_choice must be "auto", "none", "required" or {type: "function", name}', UNSUPPORTED),
  );
}

function responseFormat(format: ResponsesTextFormat | undefined): Result<Json | null, Invalid> {
  if (format === undefined || format.type === "text") return ok(null);
  if (format.type === "json_object") return ok({ type: "json_object" });
  if (format.type !== "json_schema") {
    return refuse(
      invalid("text.format.type", "text.format.type must be text, json_schema or json_object", UNSUPPORTED),
    );
  }
  if (format.name === undefined || format.schema === undefined) {
    return refuse(invalid("text.format", "a json_schema format needs a name and a schema"));
  }
  const schema: Json = { name: format.name, schema: format.schema };
  if (format.strict != null) schema["strict"] = format.strict;
  if (format.description !== undefined) schema["description"] = format.description;
  return ok({ type: "json_schema", json_schema: schema });
}

/** Tools, tool choice and response format, each translated or refused. */
function translatedOptions(req: ResponsesRequest): Result<Json, Invalid> {
  const out: Json = {};
  if (req.tools !== undefined && req.tools.length > 0) {
    const tools = chatTools(req.tools);
    if (!tools.ok) return tools;
    out["tools"] = tools.value;
  }
  if (req.tool_choice !== undefined) {
    const choice = chatToolChoice(req.tool_choice);
    if (!choice.ok) return choice;
    out["tool_choice"] = choice.value;
  }
  const format = responseFormat(req.text?.format);
  if (!format.ok) return format;
  if (format.value !== null) out["response_format"] = format.value;
  return ok(out);
}

/** Fields renamed on the way: the cap, logprobs, reasoning effort, verbosity, streaming. */
function renamedFields(req: ResponsesRequest): Json {
  const out: Json = {};
  // max_tokens rather than max_completion_tokens: every server nodes run reads it (and the gateway bills either).
  if (req.max_output_tokens != null) out["max_tokens"] = req.max_output_tokens;
  if (req.top_logprobs != null && req.top_logprobs > 0) {
    out["logprobs"] = true;
    out["top_logprobs"] = req.top_logprobs;
  }
  if (typeof req.reasoning?.effort === "string") out["reasoning_effort"] = req.reasoning.effort;
  if (typeof req.text?.verbosity === "string") out["verbosity"] = req.text.verbosity;
  // A stream always asks for usage: the Responses stream ends with it, and the gateway meters by it.
  if (req.stream === true) Object.assign(out, { stream: true, stream_options: { include_usage: true } });
  return out;
}

/** The Chat Completions body for a Responses request, or the first field the gateway cannot serve. Never sends `n`. */
export function chatRequestFrom(req: ResponsesRequest): Result<ChatRequestBody, Invalid> {
  const stateful = refuseStateful(req);
  if (stateful !== null) return refuse(stateful);
  const messages = chatMessagesFrom(req.instructions, req.input);
  if (!messages.ok) return messages;
  const options = translatedOptions(req);
  if (!options.ok) return options;
  const chat: ChatRequestBody = { model: req.model, messages: messages.value };
  for (const field of PASSED_THROUGH) {
    if (req[field] !== undefined && req[field] !== null) chat[field] = req[field];
  }
  return ok({ ...chat, ...options.value, ...renamedFields(req) });
}

// The two kinds of answer a node streams, read the same way on both sides (the agent's receipt, the gateway's meter):
// Chat Completions chunks ending with `[DONE]`, and the Responses API's events (`event: <type>` / `data: {"type": …}`)
// ending with `response.completed` (or `response.incomplete`), whose `response.usage` counts `input_tokens` and
// `output_tokens`. A whole answer (a `chat.completion`, a Response object) is read by the same dialect.
import { z } from "zod";
import { UsageSchema } from "../openai.js";
import type { TokenCount } from "./pricing.js";
import { choiceOutputs, utf8Length, type ChoiceOutput } from "./relayed-output.js";

export type DialectName = "chat" | "responses";

export interface StreamDialect {
  name: DialectName;
  /** A data payload that marks the end and is no event (chat's `[DONE]`). */
  isMarker(data: string): boolean;
  /** A parsed payload that is the stream's last event (Responses' `response.completed`, `response.incomplete`). */
  isLast(value: unknown): boolean;
  /** What one parsed payload, or a whole answer, carried to the client, per choice. */
  outputs(value: unknown): ChoiceOutput[];
  /** The usage a payload or a whole answer reports; null when it reports none. */
  usage(value: unknown): TokenCount | null;
  /** An error the node reports inside its 200 answer. */
  isError(value: unknown): boolean;
  /** A payload that can be an event of this stream at all (a client could read it). */
  isWellFormed(value: unknown): boolean;
  /** A payload under the event name `name` (the SSE `event:` field, if any) is read by clients as the payload it is. */
  isReadAs(name: string | undefined, value: unknown): boolean;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function chatUsage(value: unknown): TokenCount | null {
  if (!isObject(value) || !isObject(value["usage"])) return null;
  const parsed = UsageSchema.safeParse(value["usage"]);
  if (!parsed.success) return null;
  const u = parsed.data;
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens ?? Math.max(0, u.total_tokens - u.prompt_tokens),
  };
}

export const CHAT_DIALECT: StreamDialect = {
  name: "chat",
  // openai-node and openai-python stop at a payload starting with [DONE].
  isMarker: (data) => data.startsWith("[DONE]"),
  isLast: () => false,
  outputs: choiceOutputs,
  usage: chatUsage,
  isError: (value) => isObject(value) && "error" in value && !("choices" in value),
  isWellFormed: isObject,
  isReadAs: () => true,
};

/** The events that end a Responses stream with the whole response (and its usage) in `response`. */
const LAST_EVENTS = new Set(["response.completed", "response.incomplete"]);
/** Events whose `delta` is text the client shows (tool-call arguments included). */
const TEXT_DELTAS = new Set([
  "response.output_text.delta",
  "response.refusal.delta",
  "response.reasoning_text.delta",
  "response.reasoning_summary_text.delta",
  "response.function_call_arguments.delta",
  "response.custom_tool_call_input.delta",
]);
const ERROR_EVENTS = new Set(["error", "response.failed"]);

const ResponsesUsageSchema = z.looseObject({ input_tokens: z.int().min(0), output_tokens: z.int().min(0) });

function typeOf(value: unknown): string | null {
  return isObject(value) && typeof value["type"] === "string" ? value["type"] : null;
}

function stringBytes(value: unknown): number {
  return typeof value === "string" ? utf8Length(value) : 0;
}

function arrayLength(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

function partsBytes(parts: unknown): { textBytes: number; logprobTokens: number } {
  let textBytes = 0;
  let logprobTokens = 0;
  if (!Array.isArray(parts)) return { textBytes, logprobTokens };
  for (const part of parts as unknown[]) {
    if (!isObject(part)) continue;
    textBytes += stringBytes(part["text"]) + stringBytes(part["refusal"]);
    logprobTokens += arrayLength(part["logprobs"]);
  }
  return { textBytes, logprobTokens };
}

/** One output item of a whole Response, or one just added to a stream (`position`: its output_index). */
function itemOutput(item: Json, position: number, into: ChoiceOutput): void {
  const content = partsBytes(item["content"]);
  into.textBytes += content.textBytes + partsBytes(item["summary"]).textBytes;
  into.logprobTokens += content.logprobTokens;
  if (item["type"] === "function_call" || item["type"] === "custom_tool_call") {
    into.textBytes += stringBytes(item["name"]) + stringBytes(item["arguments"]) + stringBytes(item["input"]);
    // A call counts once it is named, as a chat tool call does.
    if (stringBytes(item["name"]) > 0) into.toolCallIndexes.push(position);
  }
}

function outputIndex(value: Json): number {
  const index = value["output_index"];
  return typeof index === "number" && Number.isSafeInteger(index) && index >= 0 ? index : 0;
}

/**
 * What a Responses event carried, as one choice (the Responses API has no `n`): its deltas and the items it adds.
 * Events that repeat what deltas carried (`*.done`, `response.completed`) add nothing, so nothing counts twice.
 * A whole Response counts its output items.
 */
function responsesOutputs(value: unknown): ChoiceOutput[] {
  if (!isObject(value)) return [];
  const output: ChoiceOutput = { index: 0, textBytes: 0, logprobTokens: 0, toolCallIndexes: [] };
  const type = typeOf(value);
  if (type !== null && TEXT_DELTAS.has(type)) {
    output.textBytes = stringBytes(value["delta"]);
    output.logprobTokens = arrayLength(value["logprobs"]);
  } else if (type === "response.output_item.added" && isObject(value["item"])) {
    itemOutput(value["item"], outputIndex(value), output);
  } else if (value["object"] === "response" && Array.isArray(value["output"])) {
    (value["output"] as unknown[]).forEach((item, position) => {
      if (isObject(item)) itemOutput(item, position, output);
    });
  } else return [];
  return [output];
}

/** Usage of the last event's `response`, or of a whole Response. */
function responsesUsage(value: unknown): TokenCount | null {
  if (!isObject(value)) return null;
  const response = LAST_EVENTS.has(typeOf(value) ?? "")
    ? value["response"]
    : value["object"] === "response"
      ? value
      : null;
  if (!isObject(response)) return null;
  const parsed = ResponsesUsageSchema.safeParse(response["usage"]);
  return parsed.success
    ? { prompt_tokens: parsed.data.input_tokens, completion_tokens: parsed.data.output_tokens }
    : null;
}

export const RESPONSES_DIALECT: StreamDialect = {
  name: "responses",
  isMarker: () => false,
  isLast: (value) => LAST_EVENTS.has(typeOf(value) ?? ""),
  outputs: responsesOutputs,
  usage: responsesUsage,
  isError: (value) => {
    const type = typeOf(value);
    return type === null ? isObject(value) && "error" in value : ERROR_EVENTS.has(type);
  },
  // Every Responses event names its type; a whole Response is an object "response". A chat chunk is neither.
  isWellFormed: (value) => typeOf(value) !== null || (isObject(value) && value["object"] === "response"),
  // OpenAI names each event by its type. openai-node hands a `thread.*` event on as an Assistants event, whatever its
  // data: a name other than the type is no event a client can be counted as reading.
  isReadAs: (name, value) => name === undefined || name === typeOf(value),
};

export function dialectNamed(name: DialectName): StreamDialect {
  return name === "chat" ? CHAT_DIALECT : RESPONSES_DIALECT;
}

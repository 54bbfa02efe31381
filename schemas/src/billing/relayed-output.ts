// What an answer delivers to its client, choice by choice, read the same way on both sides: the gateway bounds the
// completion tokens a node may bill by it, and the agent counts the tokens of an answer cut short by it. Only what
// reaches the client counts: generated text (content, reasoning, refusals, tool calls), and log-probability entries.

/** One choice's output in one answer object (`message`, `text`) or stream chunk (`delta`, `text`). */
export interface ChoiceOutput {
  /** UTF-8 bytes of generated text: content, reasoning, refusal, tool-call names and arguments, completion text. */
  textBytes: number;
  /** Log-probability entries: one per generated token. */
  logprobTokens: number;
  /** Tool calls this output starts (an entry carrying an `id`). */
  toolCalls: number;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** UTF-8 length of a string without encoding it (a lone surrogate is sent as U+FFFD, three bytes). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function stringBytes(value: unknown): number {
  return typeof value === "string" ? utf8Length(value) : 0;
}

/** A message's content: a string, or content parts whose `text` counts. */
function contentBytes(value: unknown): number {
  if (typeof value === "string") return utf8Length(value);
  if (!Array.isArray(value)) return 0;
  let bytes = 0;
  for (const part of value as unknown[]) if (isObject(part)) bytes += stringBytes(part["text"]);
  return bytes;
}

function functionBytes(value: unknown): number {
  return isObject(value) ? stringBytes(value["name"]) + stringBytes(value["arguments"]) : 0;
}

function arrayLength(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

/** Chat: `logprobs.content` and `logprobs.refusal` entries; completions: `logprobs.tokens`. */
function logprobEntries(value: unknown): number {
  if (!isObject(value)) return 0;
  return arrayLength(value["content"]) + arrayLength(value["refusal"]) + arrayLength(value["tokens"]);
}

function messageOutput(message: Json, into: ChoiceOutput): void {
  into.textBytes +=
    contentBytes(message["content"]) +
    stringBytes(message["reasoning_content"]) +
    stringBytes(message["reasoning"]) +
    stringBytes(message["refusal"]) +
    functionBytes(message["function_call"]);
  const calls = message["tool_calls"];
  if (!Array.isArray(calls)) return;
  for (const call of calls as unknown[]) {
    if (!isObject(call)) continue;
    into.textBytes += functionBytes(call["function"]);
    if (typeof call["id"] === "string" && call["id"] !== "") into.toolCalls++;
  }
}

/**
 * The output of each choice in a chat completion, a chat completion chunk, a text completion or one of its chunks;
 * empty for anything else (an embedding list, a usage-only chunk, an error).
 */
export function choiceOutputs(value: unknown): ChoiceOutput[] {
  if (!isObject(value) || !Array.isArray(value["choices"])) return [];
  const outputs: ChoiceOutput[] = [];
  for (const choice of value["choices"] as unknown[]) {
    if (!isObject(choice)) continue;
    const output: ChoiceOutput = { textBytes: stringBytes(choice["text"]), logprobTokens: logprobEntries(choice["logprobs"]), toolCalls: 0 };
    const message = isObject(choice["message"]) ? choice["message"] : isObject(choice["delta"]) ? choice["delta"] : null;
    if (message) messageOutput(message, output);
    outputs.push(output);
  }
  return outputs;
}

/**
 * Tokens one stream chunk's choice carried, as a node counts the tokens of an answer it relayed only in part (no
 * usage came from its server): its log-probability entries when it has them (one per token), else one for a chunk
 * that carried any text or tool call (servers stream a token per chunk), else none.
 */
export function chunkTokens(output: ChoiceOutput): number {
  if (output.logprobTokens > 0) return output.logprobTokens;
  return output.textBytes > 0 || output.toolCalls > 0 ? 1 : 0;
}

// What an answer delivers to its client, choice by choice, read the same way on both sides: the gateway bounds the
// completion tokens a node may bill by it, and the agent counts the tokens of an answer cut short by it. Only what
// reaches the client counts: generated text (content, reasoning, refusals, tool calls), and log-probability entries.

/** One choice's output in one answer object (`message`, `text`) or stream chunk (`delta`, `text`). */
export interface ChoiceOutput {
  /**
   * The choice's `index` (its position when it names none): a client merges every delta of one index into one choice.
   */
  index: number;
  /** UTF-8 bytes of generated text: content, reasoning, refusal, tool-call names and arguments, completion text. */
  textBytes: number;
  /** Log-probability entries: one per generated token. */
  logprobTokens: number;
  /**
   * The tool calls this output carries, by their `index` (a stream's deltas of one call share it; a whole message's
   * calls are numbered by position): a client merges deltas of one index into one call, so that is what counts.
   */
  toolCallIndexes: number[];
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

function indexOf(value: Json, position: number): number {
  const index = value["index"];
  return typeof index === "number" && Number.isSafeInteger(index) && index >= 0 ? index : position;
}

/** A call's name: what a server sends in a call's first delta (and a whole message always has). */
function callName(call: Json): string {
  const fn = call["function"];
  return isObject(fn) && typeof fn["name"] === "string" ? fn["name"] : "";
}

function messageOutput(message: Json, into: ChoiceOutput): void {
  // Servers name reasoning one way or the other (vLLM's `reasoning_content`, later `reasoning`); a node that sends
  // both has a client show one, so the larger counts.
  const reasoning = Math.max(stringBytes(message["reasoning_content"]), stringBytes(message["reasoning"]));
  into.textBytes +=
    contentBytes(message["content"]) +
    reasoning +
    stringBytes(message["refusal"]) +
    functionBytes(message["function_call"]);
  const calls = message["tool_calls"];
  if (!Array.isArray(calls)) return;
  (calls as unknown[]).forEach((call, position) => {
    if (!isObject(call)) return;
    into.textBytes += functionBytes(call["function"]);
    // A call counts once it is named: an entry with nothing in it starts nothing a client would show.
    if (callName(call) !== "") into.toolCallIndexes.push(indexOf(call, position));
  });
}

/**
 * The output of each choice in a chat completion, a chat completion chunk, a text completion or one of its chunks;
 * empty for anything else (an embedding list, a usage-only chunk, an error).
 */
export function choiceOutputs(value: unknown): ChoiceOutput[] {
  if (!isObject(value) || !Array.isArray(value["choices"])) return [];
  const outputs: ChoiceOutput[] = [];
  (value["choices"] as unknown[]).forEach((choice, position) => {
    if (!isObject(choice)) return;
    const message = isObject(choice["message"])
      ? choice["message"]
      : isObject(choice["delta"])
        ? choice["delta"]
        : null;
    // A completion's text; a chat choice's `text` is nothing a chat client shows.
    const output: ChoiceOutput = {
      index: indexOf(choice, position),
      textBytes: message ? 0 : stringBytes(choice["text"]),
      logprobTokens: logprobEntries(choice["logprobs"]),
      toolCallIndexes: [],
    };
    if (message) messageOutput(message, output);
    outputs.push(output);
  });
  return outputs;
}

/**
 * Tokens one stream chunk's choice carried, as a node counts the tokens of an answer it relayed only in part (no
 * usage came from its server): its log-probability entries when it has them (one per token), else one for a chunk
 * that carried any text or tool call (servers stream a token per chunk), else none.
 */
export function chunkTokens(output: ChoiceOutput): number {
  if (output.logprobTokens > 0) return output.logprobTokens;
  return output.textBytes > 0 || output.toolCallIndexes.length > 0 ? 1 : 0;
}

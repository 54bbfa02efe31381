// Prompt tokens of a request, estimated from its body: for a partial answer whose inference server reported no usage
// (the count only comes with the last chunk, and the answer was stopped before it). Four bytes of text a token, the
// usual rule of thumb, plus four a chat message for the template around it; a token id is one token.
import { utf8Length } from "@meshgate/schemas";

const BYTES_PER_TOKEN = 4;
const TOKENS_PER_MESSAGE = 4;

interface PromptSize {
  textBytes: number;
  tokenIds: number;
  messages: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A chat message's content: a string, or the `text` of its parts (images and audio are not counted). */
function contentBytes(content: unknown): number {
  if (typeof content === "string") return utf8Length(content);
  if (!Array.isArray(content)) return 0;
  let bytes = 0;
  for (const part of content as unknown[]) {
    if (isObject(part) && typeof part["text"] === "string") bytes += utf8Length(part["text"]);
  }
  return bytes;
}

/** A completions prompt: a string, token ids, or a list of either. */
function addPrompt(prompt: unknown, size: PromptSize): void {
  if (typeof prompt === "string") size.textBytes += utf8Length(prompt);
  else if (typeof prompt === "number") size.tokenIds += 1;
  else if (Array.isArray(prompt)) for (const item of prompt as unknown[]) addPrompt(item, size);
}

/** A Responses request: its instructions, and its input (a string, or items: messages, tool calls and results). */
function addResponsesInput(body: Record<string, unknown>, size: PromptSize): void {
  if (typeof body["instructions"] === "string") {
    size.messages += 1;
    size.textBytes += utf8Length(body["instructions"]);
  }
  const input = body["input"];
  if (typeof input === "string") {
    size.messages += 1;
    size.textBytes += utf8Length(input);
    return;
  }
  if (!Array.isArray(input)) return;
  for (const item of input as unknown[]) {
    size.messages += 1;
    if (!isObject(item)) continue;
    size.textBytes += contentBytes(item["content"]) + contentBytes(item["output"]) + contentBytes(item["arguments"]);
  }
}

function promptSize(body: Record<string, unknown>): PromptSize {
  const size: PromptSize = { textBytes: 0, tokenIds: 0, messages: 0 };
  const messages = body["messages"];
  if ("input" in body && !("messages" in body)) addResponsesInput(body, size);
  else if (Array.isArray(messages)) {
    for (const message of messages as unknown[]) {
      size.messages += 1;
      if (isObject(message)) size.textBytes += contentBytes(message["content"]);
    }
  } else {
    addPrompt(body["prompt"], size);
  }
  return size;
}

/** ceil(prompt text bytes / 4) + 4 per chat message + 1 per token id; 0 for a body that is not a JSON object. */
export function estimatePromptTokens(body: Uint8Array): number {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch {
    return 0;
  }
  if (!isObject(value)) return 0;
  const size = promptSize(value);
  return Math.ceil(size.textBytes / BYTES_PER_TOKEN) + size.messages * TOKENS_PER_MESSAGE + size.tokenIds;
}

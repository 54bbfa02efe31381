// Output item ids that carry their item, so the gateway can answer an `item_reference` without storing anything.
// The AI SDK's OpenAI provider, whose `store` defaults to true, sends earlier assistant messages of a conversation as
// `{type: "item_reference", id}` instead of the message: an id minted here decodes back into that message. Only whole
// answers (not streamed) get such ids: a stream must name an item before its text exists.
import { fromBase64, toBase64Url, type ResponsesInputItem } from "@meshgate/schemas";

/** Marks a self-contained id after OpenAI's prefix (`msg_`, `fc_`); OpenAI's own ids never contain it. */
const MARK = "mg_";
/**
 * Largest item encoded in its id: the id travels in the answer and again in each later request, so an answer of more
 * text than this gets a plain id (a reference to it is refused, with how to send the item instead).
 */
export const MAX_SELF_CONTAINED_BYTES = 64 * 1024;

type MessagePart = { type: "output_text"; text: string } | { type: "refusal"; refusal: string };

function encode(prefix: string, value: unknown): string | null {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return bytes.length > MAX_SELF_CONTAINED_BYTES ? null : `${prefix}_${MARK}${toBase64Url(bytes)}`;
}

/** An assistant message's id that decodes back into its text and refusal parts; null when too long to carry. */
export function messageItemId(parts: readonly MessagePart[]): string | null {
  return encode("msg", { c: parts.map((p) => (p.type === "output_text" ? { t: p.text } : { r: p.refusal })) });
}

/** A function call's id that decodes back into the call; null when its arguments are too long to carry. */
export function functionCallItemId(call: { call_id: string; name: string; arguments: string }): string | null {
  return encode("fc", { i: call.call_id, n: call.name, a: call.arguments });
}

function decodeJson(id: string, prefix: string): Record<string, unknown> | null {
  const start = `${prefix}_${MARK}`;
  if (!id.startsWith(start)) return null;
  const bytes = fromBase64(id.slice(start.length));
  if (bytes === null) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function decodeMessage(id: string): ResponsesInputItem | null {
  const value = decodeJson(id, "msg");
  if (value === null || !Array.isArray(value["c"])) return null;
  const content: MessagePart[] = [];
  for (const part of value["c"] as unknown[]) {
    const p = (typeof part === "object" && part !== null ? part : {}) as Record<string, unknown>;
    if (typeof p["t"] === "string") content.push({ type: "output_text", text: p["t"] });
    else if (typeof p["r"] === "string") content.push({ type: "refusal", refusal: p["r"] });
    else return null;
  }
  return { type: "message", role: "assistant", id, content };
}

function decodeFunctionCall(id: string): ResponsesInputItem | null {
  const value = decodeJson(id, "fc");
  if (value === null) return null;
  const { i, n, a } = value;
  if (typeof i !== "string" || typeof n !== "string" || typeof a !== "string") return null;
  return { type: "function_call", id, call_id: i, name: n, arguments: a };
}

/** The item a self-contained id carries, or null for any other id (OpenAI's, a streamed answer's, a forged one). */
export function itemFromId(id: string): ResponsesInputItem | null {
  return decodeMessage(id) ?? decodeFunctionCall(id);
}

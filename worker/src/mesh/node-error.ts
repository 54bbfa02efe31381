// A node's refusal (a 4xx the client's request caused, e.g. a prompt too long for the model) reaches the client in
// OpenAI's error shape whatever shape the node's server used (vLLM's older `{"object":"error",…}`, Ollama's
// `{"error":"…"}`, FastAPI's `{"detail":…}`, plain text). The node's message is kept, because it says what was
// wrong, but bounded, cleaned of control characters and marked as the node's: the gateway does not vouch for it.
import type { OpenAIErrorBody } from "@meshgate/schemas";

/** Characters of the node's message kept. */
export const MAX_NODE_MESSAGE_CHARS = 1_000;

const OPENAI_TYPES = new Set([
  "invalid_request_error",
  "authentication_error",
  "permission_error",
  "not_found_error",
  "rate_limit_error",
  "insufficient_quota",
  "api_error",
]);
const IDENTIFIER = /^[A-Za-z0-9_.-]{1,64}$/;
const PARAM = /^[A-Za-z0-9_.[\]-]{1,128}$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringOf(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

/** FastAPI's validation errors: `detail` is a list of `{msg, loc}`. */
function detailText(detail: unknown): string | null {
  if (!Array.isArray(detail)) return stringOf(detail);
  const messages = (detail as unknown[]).flatMap((d) =>
    isObject(d) && typeof d["msg"] === "string" ? [d["msg"]] : [],
  );
  return messages.length > 0 ? messages.join("; ") : null;
}

interface NodeError {
  message: string | null;
  type: unknown;
  param: unknown;
  code: unknown;
}

function readNodeError(text: string): NodeError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { message: stringOf(text), type: null, param: null, code: null };
  }
  if (!isObject(value)) return { message: null, type: null, param: null, code: null };
  const inner = value["error"];
  if (isObject(inner))
    return { message: stringOf(inner["message"]), type: inner["type"], param: inner["param"], code: inner["code"] };
  return {
    message: stringOf(inner) ?? stringOf(value["message"]) ?? detailText(value["detail"]),
    type: value["type"],
    param: value["param"],
    code: value["code"],
  };
}

/** Control characters out, whitespace collapsed, at most MAX_NODE_MESSAGE_CHARS (cut with an ellipsis). */
export function cleanMessage(text: string): string {
  const clean = text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it takes out
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return clean.length <= MAX_NODE_MESSAGE_CHARS ? clean : `${clean.slice(0, MAX_NODE_MESSAGE_CHARS - 1)}…`;
}

function defaultType(status: number): string {
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  return "invalid_request_error";
}

/** The node's error body (any shape) as OpenAI's, its message marked as the node's. */
export function nodeErrorBody(status: number, body: Uint8Array | ArrayBuffer): OpenAIErrorBody {
  const found = readNodeError(new TextDecoder().decode(body.slice(0, 64 * 1024)));
  const said = found.message === null ? "(no message)" : cleanMessage(found.message);
  const type = typeof found.type === "string" && OPENAI_TYPES.has(found.type) ? found.type : defaultType(status);
  const param = typeof found.param === "string" && PARAM.test(found.param) ? found.param : null;
  const code = typeof found.code === "string" && IDENTIFIER.test(found.code) ? found.code : null;
  return { error: { message: `The node serving this request answered ${status}: ${said}`, type, param, code } };
}

// POST /v1/embeddings: deterministic unit vectors derived from each input, float or base64 encoded.
import { ApiError, optionalInt, type JsonObject } from "./http-io.js";
import type { SimResponse } from "./responses.js";
import { countTokens } from "./tokenizer.js";

export const DEFAULT_DIMENSIONS = 16;
const MAX_DIMENSIONS = 4096;

interface Input {
  key: string;
  tokens: number;
}

function readInputs(value: unknown): Input[] {
  if (typeof value === "string") return [{ key: value, tokens: countTokens(value) }];
  if (Array.isArray(value) && value.length > 0) {
    // A flat array of numbers is one token-id input; anything else is a list of inputs.
    if (value.every((v) => typeof v === "number")) return [{ key: JSON.stringify(value), tokens: value.length }];
    return (value as unknown[]).flatMap((item) => {
      if (typeof item === "string") return [{ key: item, tokens: countTokens(item) }];
      if (Array.isArray(item) && item.every((v) => typeof v === "number"))
        return [{ key: JSON.stringify(item), tokens: item.length }];
      throw new ApiError(
        400,
        "`input` items must be strings or token-id arrays.",
        "invalid_request_error",
        "invalid_value",
        "input",
      );
    });
  }
  throw new ApiError(
    400,
    "`input` must be a string, an array of strings, or token ids.",
    "invalid_request_error",
    "invalid_value",
    "input",
  );
}

/** FNV-1a seeded xorshift32: the same input always yields the same vector, normalized to length 1. */
export function embed(key: string, dimensions: number): Float32Array {
  let state = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) state = Math.imul(state ^ key.charCodeAt(i), 0x01000193);
  if (state === 0) state = 1;
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const value = (state >>> 0) / 0xffffffff - 0.5;
    vector[i] = value;
    norm += value * value;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dimensions; i++) vector[i] = vector[i]! * scale;
  return vector;
}

export function embeddings(body: JsonObject, model: string): SimResponse {
  const inputs = readInputs(body["input"]);
  const dimensions = Math.min(optionalInt(body, "dimensions", 1) ?? DEFAULT_DIMENSIONS, MAX_DIMENSIONS);
  // The official OpenAI SDKs ask for base64 by default: little-endian float32 bytes.
  const base64 = body["encoding_format"] === "base64";
  const data = inputs.map((input, index) => {
    const vector = embed(input.key, dimensions);
    const embedding = base64
      ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64")
      : Array.from(vector);
    return { object: "embedding", index, embedding };
  });
  const promptTokens = inputs.reduce((sum, input) => sum + input.tokens, 0);
  return {
    kind: "json",
    body: { object: "list", data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } },
  };
}

// What an endpoint handler produces; the server applies latency, failure injection and the wire encoding.
import { randomBytes } from "node:crypto";

/**
 * A stream's `format`: chat's `data:` lines ending with `[DONE]` (the default), or the Responses API's `event:` and
 * `data:` lines, which end with the last event.
 */
export type SimResponse =
  | { kind: "json"; body: unknown }
  | { kind: "stream"; events: unknown[]; format?: "chat" | "responses" };

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

const processTag = randomBytes(4).toString("hex");
let counter = 0;

/** Unique per response, like OpenAI's ids; a per-process tag keeps restarts from reusing them. */
export function responseId(prefix: string): string {
  counter += 1;
  return `${prefix}-sim${processTag}${counter.toString(36)}`;
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export const SYSTEM_FINGERPRINT = "fp_meshgate_sim";

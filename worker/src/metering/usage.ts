// Finds OpenAI usage counts in response bodies and stream chunks.
import { CHAT_DIALECT, type TokenCount } from "@meshgate/schemas";

export interface TokenCounts {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** The usage a chat or completions answer or chunk carries, read as the agent reads it (schemas' CHAT_DIALECT). */
export function usageFrom(value: unknown): TokenCounts | null {
  return usageCounts(CHAT_DIALECT.usage(value));
}

/** A dialect's counts (schemas' stream-dialect.ts) with their total. */
export function usageCounts(usage: TokenCount | null): TokenCounts | null {
  return usage && { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}

/** A body parsed as JSON; undefined when it is not JSON. */
export function parseJsonBody(body: ArrayBuffer | Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
}

export type ChunkVerdict =
  | { action: "forward"; usage: TokenCounts | null }
  | { action: "drop"; usage: TokenCounts }
  | { action: "rewrite"; usage: TokenCounts; data: string };

/**
 * Reads the usage carried by one parsed `data:` payload of a chat/completions stream. With `hideUsage` (the gateway
 * added `include_usage`, the client did not ask for it) the usage-only chunk (empty `choices`) is dropped and usage
 * riding on a content chunk is blanked out, so the client sees exactly the stream it asked for.
 */
export function inspectChunk(chunk: unknown, hideUsage: boolean): ChunkVerdict {
  const usage = usageFrom(chunk);
  if (!usage || !hideUsage) return { action: "forward", usage };
  const record = chunk as { choices?: unknown };
  if (Array.isArray(record.choices) && record.choices.length === 0) return { action: "drop", usage };
  return { action: "rewrite", usage, data: JSON.stringify({ ...record, usage: null }) };
}

// Finds OpenAI usage counts in response bodies and stream chunks.
import { UsageSchema, type TokenCount } from "@meshgate/schemas";

export interface TokenCounts {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usageFrom(value: unknown): TokenCounts | null {
  if (typeof value !== "object" || value === null) return null;
  const usage = (value as { usage?: unknown }).usage;
  // Most stream chunks carry none, or `"usage": null`: not worth a schema check.
  if (typeof usage !== "object" || usage === null) return null;
  const parsed = UsageSchema.safeParse(usage);
  if (!parsed.success) return null;
  const u = parsed.data;
  const completion = u.completion_tokens ?? Math.max(0, u.total_tokens - u.prompt_tokens);
  return { prompt_tokens: u.prompt_tokens, completion_tokens: completion, total_tokens: u.prompt_tokens + completion };
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

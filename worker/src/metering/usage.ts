// Finds OpenAI usage counts in response bodies and stream chunks.
import { UsageSchema } from "@meshgate/schemas";

export interface TokenCounts {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usageFrom(value: unknown): TokenCounts | null {
  if (typeof value !== "object" || value === null) return null;
  const parsed = UsageSchema.safeParse((value as { usage?: unknown }).usage);
  if (!parsed.success) return null;
  const u = parsed.data;
  const completion = u.completion_tokens ?? Math.max(0, u.total_tokens - u.prompt_tokens);
  return { prompt_tokens: u.prompt_tokens, completion_tokens: completion, total_tokens: u.prompt_tokens + completion };
}

/** Usage of a whole (non-streamed) JSON answer; null when the body is not JSON or carries none. */
export function usageOfJsonBody(body: ArrayBuffer): TokenCounts | null {
  try {
    return usageFrom(JSON.parse(new TextDecoder().decode(body)));
  } catch {
    return null;
  }
}

/** Cheap pre-check so that only the chunk carrying usage is JSON-parsed, not every token chunk. */
export function mayCarryUsage(data: string): boolean {
  return /"usage"\s*:\s*\{/.test(data);
}

export type ChunkVerdict =
  | { action: "forward"; usage: TokenCounts | null }
  | { action: "drop"; usage: TokenCounts }
  | { action: "rewrite"; usage: TokenCounts; data: string };

/**
 * Reads the usage carried by one `data:` payload of a chat/completions stream. With `hideUsage` (the gateway added
 * `include_usage`, the client did not ask for it) the usage-only chunk (empty `choices`) is dropped and usage riding
 * on a content chunk is blanked out, so the client sees exactly the stream it asked for.
 */
export function inspectChunk(data: string, hideUsage: boolean): ChunkVerdict {
  if (!mayCarryUsage(data)) return { action: "forward", usage: null };
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    return { action: "forward", usage: null };
  }
  const usage = usageFrom(chunk);
  if (!usage || !hideUsage) return { action: "forward", usage };
  const record = chunk as { choices?: unknown };
  if (Array.isArray(record.choices) && record.choices.length === 0) return { action: "drop", usage };
  return { action: "rewrite", usage, data: JSON.stringify({ ...record, usage: null }) };
}

// Reads the token usage an upstream reported, the way the gateway reads it (so the receipt and the gateway agree).
import { CHAT_DIALECT, UsageSchema, type StreamDialect, type TokenCount } from "@meshgate/schemas";

/** A `usage` object's counts; embeddings report no completion_tokens, so they are total − prompt. */
export function usageFrom(value: unknown): TokenCount | null {
  if (typeof value !== "object" || value === null) return null;
  const parsed = UsageSchema.safeParse((value as { usage?: unknown }).usage);
  if (!parsed.success) return null;
  const u = parsed.data;
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens ?? Math.max(0, u.total_tokens - u.prompt_tokens),
  };
}

/** Usage of a JSON text (a whole answer, or one stream event's data); null when it is not JSON or has none. */
export function usageOfJson(text: string, dialect: StreamDialect = CHAT_DIALECT): TokenCount | null {
  try {
    return dialect.usage(JSON.parse(text));
  } catch {
    return null;
  }
}

/** Cheap pre-check, so only the event that carries usage is JSON-parsed, not every token chunk. */
export function mayCarryUsage(data: string): boolean {
  return /"usage"\s*:\s*\{/.test(data);
}

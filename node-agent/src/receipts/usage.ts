// Reads the token usage an upstream reported, the way the gateway reads it (so the receipt and the gateway agree).
import { CHAT_DIALECT, type StreamDialect, type TokenCount } from "@meshgate/schemas";

/** A `usage` object's counts (embeddings report no completion_tokens, so they are total − prompt), as the gateway's. */
export function usageFrom(value: unknown): TokenCount | null {
  return CHAT_DIALECT.usage(value);
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

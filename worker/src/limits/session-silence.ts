// How long a node's session may go without a keep-alive before the gateway takes the node for dead.
import { SESSION_SILENCE_LIMIT_MS } from "@meshgate/schemas";

/**
 * SESSION_SILENCE_LIMIT_MS, whole milliseconds from 1 s to 5 min; anything else is the default (15 s, three missed pings). It is also how
 * often an open session's silence alarm runs, so a longer limit costs fewer alarms and detects a dead node later.
 */
export function sessionSilenceLimitMs(env: { SESSION_SILENCE_LIMIT_MS?: string | undefined }): number {
  const text = env.SESSION_SILENCE_LIMIT_MS?.trim() ?? "";
  const value = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
  return value >= 1_000 && value <= 300_000 ? value : SESSION_SILENCE_LIMIT_MS;
}

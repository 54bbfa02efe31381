// The operator's timings for node sessions: how long one may go silent, and how widely agents spread their reconnects.
import { SESSION_RECONNECT_WINDOW_MS, SESSION_SILENCE_LIMIT_MS } from "@meshgate/schemas";

interface SessionTimingVars {
  SESSION_SILENCE_LIMIT_MS?: string | undefined;
  SESSION_RECONNECT_WINDOW_MS?: string | undefined;
}

/**
 * SESSION_SILENCE_LIMIT_MS, whole milliseconds from 1 s to 5 min; anything else is the default (15 s, three missed
 * pings). It is also how often an open session's silence alarm runs, so a longer limit costs fewer alarms and detects a
 * dead node later.
 */
export function sessionSilenceLimitMs(env: SessionTimingVars): number {
  return wholeMs(env.SESSION_SILENCE_LIMIT_MS, 1_000, 300_000) ?? SESSION_SILENCE_LIMIT_MS;
}

/**
 * SESSION_RECONNECT_WINDOW_MS, whole milliseconds from 100 ms to 5 min, told to every agent in its welcome: when a
 * session it held drops, the agent waits a random time within this window before dialling again (doubling it after each
 * failure). Every agent drops at once when the gateway restarts, so this is how long the fleet takes to come back, and
 * fleet size over this window is the reconnect rate the gateway and its registry take (default 2 s).
 */
export function sessionReconnectWindowMs(env: SessionTimingVars): number {
  return wholeMs(env.SESSION_RECONNECT_WINDOW_MS, 100, 300_000) ?? SESSION_RECONNECT_WINDOW_MS;
}

function wholeMs(text: string | undefined, min: number, max: number): number | null {
  const trimmed = text?.trim() ?? "";
  const value = /^\d{1,6}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  return value >= min && value <= max ? value : null;
}

/**
 * How long a node whose session dropped (not closed by its agent) stays listed before the registry is told: long enough
 * for an agent dialling again within its reconnect window, so a fleet-wide drop costs the registry one call a node
 * (the reconnect), not two. Requests that meet the node meanwhile fail over at once.
 */
export function sessionReconnectGraceMs(env: SessionTimingVars): number {
  return 2 * sessionReconnectWindowMs(env) + 1_000;
}

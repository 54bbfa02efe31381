// The Server-Timing header of an answered request: what the gateway itself cost, what failed attempts cost, and how
// long the answering node took to its first byte (DevTools and most APM tools read it).
import type { AttemptRecord } from "./failover.js";

export interface TimingInput {
  startedAt: number;
  now: number;
  attempts: readonly AttemptRecord[];
  nodeTtfbMs: number;
  /** Time spent taking node slots from admission cells (part of the gateway's own time). */
  admitMs: number;
}

const ms = (value: number): string => String(Math.max(0, Math.round(value * 10) / 10));

export function serverTiming(t: TimingInput): string {
  const spentOnNodes = t.attempts.reduce((sum, a) => sum + a.durationMs, 0);
  const failedMs = t.attempts.slice(0, -1).reduce((sum, a) => sum + a.durationMs, 0);
  const parts = [`gateway;dur=${ms(t.now - t.startedAt - spentOnNodes)};desc="gateway overhead"`];
  parts.push(`admit;dur=${ms(t.admitMs)};desc="node slots from admission cells"`);
  if (t.attempts.length > 1) parts.push(`failover;dur=${ms(failedMs)};desc="failed attempts"`);
  parts.push(`node;dur=${ms(t.nodeTtfbMs)};desc="node time to first byte (streams) or to the whole answer"`);
  return parts.join(", ");
}

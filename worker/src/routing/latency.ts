// Peak EWMA of time-to-first-byte (Finagle/Linkerd): a slow sample is believed at once, a fast one only gradually,
// so a node that just got slow stops attracting traffic immediately.

export interface LatencyEstimate {
  /** Estimated time to first byte, milliseconds. */
  ms: number;
  /** When the estimate was last updated, ms since the epoch. */
  at: number;
}

export const LATENCY_DECAY_MS = 10_000;
/** What a node without measurements is assumed to take to its first token: a typical small model's, neither shunned nor favoured. */
export const LATENCY_PRIOR_MS = 150;

export function updateLatency(prev: LatencyEstimate | null, sampleMs: number, now: number, decayMs = LATENCY_DECAY_MS): LatencyEstimate {
  const sample = Math.max(0, sampleMs);
  if (!prev || sample > prev.ms) return { ms: sample, at: now };
  const w = Math.exp(-Math.max(0, now - prev.at) / decayMs);
  return { ms: prev.ms * w + sample * (1 - w), at: now };
}

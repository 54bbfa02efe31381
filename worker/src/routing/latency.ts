// Peak EWMA of time-to-first-byte (Finagle/Linkerd): a slow sample is believed at once, a fast one only gradually,
// so a node that just got slow stops attracting traffic immediately.

export interface LatencyEstimate {
  /** Estimated time to first byte, milliseconds. */
  ms: number;
  /** When the estimate was last updated, ms since the epoch. */
  at: number;
}

export const LATENCY_DECAY_MS = 10_000;
/**
 * What a node without measurements is assumed to take to its first token: a typical small model's, neither shunned nor
 * favoured.
 */
export const LATENCY_PRIOR_MS = 150;

/**
 * `weight` below 1 (a sample that says less, e.g. from a long prompt: prefill.ts) moves the estimate only that share of
 * the way to where a full sample would have put it.
 */
export function updateLatency(
  prev: LatencyEstimate | null,
  sampleMs: number,
  now: number,
  decayMs = LATENCY_DECAY_MS,
  weight = 1,
): LatencyEstimate {
  const sample = Math.max(0, sampleMs);
  if (!prev) return { ms: sample, at: now };
  const w = Math.exp(-Math.max(0, now - prev.at) / decayMs);
  const full = sample > prev.ms ? sample : prev.ms * w + sample * (1 - w);
  const share = Math.min(1, Math.max(0, weight));
  return { ms: prev.ms + (full - prev.ms) * share, at: now };
}

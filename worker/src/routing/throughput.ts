// Decaying estimate of a node's streaming speed (completion tokens per second after the first token).

export interface ThroughputEstimate {
  tokensPerSecond: number;
  at: number;
}

export const THROUGHPUT_DECAY_MS = 30_000;

/** Fewer tokens than this say little about speed (a one-word answer is all first-token latency). */
const MIN_TOKENS = 4;

export function updateThroughput(
  prev: ThroughputEstimate | null,
  sample: { tokens: number; streamMs: number },
  now: number,
  decayMs = THROUGHPUT_DECAY_MS,
): ThroughputEstimate | null {
  if (sample.tokens < MIN_TOKENS || sample.streamMs <= 0) return prev;
  const tps = (sample.tokens * 1000) / sample.streamMs;
  if (!prev) return { tokensPerSecond: tps, at: now };
  const w = Math.exp(-Math.max(0, now - prev.at) / decayMs);
  return { tokensPerSecond: prev.tokensPerSecond * w + tps * (1 - w), at: now };
}

// What a prompt's size does to its first token: an inference server reads (prefills) the whole prompt before it sends
// one, so a long prompt is slow to start on an honest node. The first-token deadline grows with it, and a latency
// sample from a long prompt is scaled to an ordinary one and counts for less, so one large upload neither times a
// node out nor makes it look slow for minutes. Sizes are the gateway's prompt bound (token-bounds.ts: a token a byte
// of the request, plus a fixed amount per media part), a number the node cannot choose.

/**
 * Prompts up to this bound (about 2,000 real tokens at 4 bytes a token) are ordinary: the configured first-token
 * timeout covers their prefill, and their latency samples count in full.
 */
export const ORDINARY_PROMPT_TOKENS = 8_192;

/** Beyond the ordinary size, how much the prompt is over it: 1 for an ordinary prompt, 4 for one four times as long. */
export function promptScale(promptTokens: number | undefined): number {
  return Math.max(1, (promptTokens ?? 0) / ORDINARY_PROMPT_TOKENS);
}

export function isLongPrompt(promptTokens: number | undefined): boolean {
  return promptScale(promptTokens) > 1;
}

/**
 * The first-token deadline for a prompt: the configured one for an ordinary prompt, growing in proportion beyond it
 * (at the default 10 s, ~1.2 ms per bound token, ~200 real tokens a second: slow for a GPU), never past `maxMs`.
 * A client that makes its prompt long waits longer for a hung node; only its own request does.
 */
export function firstTokenDeadlineMs(baseMs: number, promptTokens: number | undefined, maxMs: number): number {
  return Math.max(baseMs, Math.min(maxMs, Math.round(baseMs * promptScale(promptTokens))));
}

export interface LatencySample {
  /** The time to first token the node would have taken on an ordinary prompt, as far as can be told. */
  ms: number;
  /** How much the sample counts (1: in full, as Peak EWMA counts it). */
  weight: number;
}

/**
 * A time to first token as a latency sample: for a prompt k times the ordinary size, 1/k of the time, counting 1/k.
 * Scaling assumes all of it was prefill (it is not: the network and queue are in it too), so it also counts less: a
 * 60 s first token on a prompt twelve times the ordinary size moves the estimate by a twelfth of 5 s, not to 60 s.
 */
export function latencySample(ttftMs: number, promptTokens: number | undefined): LatencySample {
  const scale = promptScale(promptTokens);
  return { ms: ttftMs / scale, weight: 1 / scale };
}

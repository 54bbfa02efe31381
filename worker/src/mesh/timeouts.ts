// How long the gateway waits for a node before trying the next one.

export interface DispatchTimeouts {
  /** A stream's first bytes (its first token): a node that has not started by then is abandoned. */
  firstTokenMs: number;
  /**
   * The longest first-token deadline, given to the longest prompts (their prefill takes longest; see
   * routing/prefill.ts). Chat and completions are always asked of a node as a stream, so no deadline covers a whole
   * generation: a stream that stops sending is cut by its stall timer instead.
   */
  answerMs: number;
}

export const DEFAULT_TIMEOUTS: DispatchTimeouts = { firstTokenMs: 10_000, answerMs: 120_000 };

function millis(text: string | undefined, fallback: number): number {
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  // A misconfigured value must not turn into "wait for ever" or "abandon every node".
  return Number.isInteger(value) && value >= 100 && value <= 600_000 ? value : fallback;
}

export function dispatchTimeouts(env: {
  FIRST_TOKEN_TIMEOUT_MS?: string;
  ANSWER_TIMEOUT_MS?: string;
}): DispatchTimeouts {
  return {
    firstTokenMs: millis(env.FIRST_TOKEN_TIMEOUT_MS, DEFAULT_TIMEOUTS.firstTokenMs),
    answerMs: millis(env.ANSWER_TIMEOUT_MS, DEFAULT_TIMEOUTS.answerMs),
  };
}

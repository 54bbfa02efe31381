// How long an agent waits before dialling the gateway again: exponential backoff with full jitter (a uniform draw
// between zero and the window). When a gateway deploy closes every session at once, each agent draws its own delay,
// so the reconnections spread over the window instead of arriving together; the window doubles with each failure in
// a row, so an unreachable gateway is asked less and less often, up to the cap.

export interface BackoffPolicy {
  /** The first window. */
  baseMs: number;
  /** The largest window. */
  capMs: number;
}

export const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 30_000 };
const MIN_FIRST_WINDOW_MS = 100;

/** A session open this long before it closed was healthy: the next failure counts as the first again. */
export const HEALTHY_SESSION_MS = 30_000;

/** The window after `failures` failures in a row (0 for the first): base·2^failures, at most the cap. */
export function backoffWindowMs(failures: number, policy: BackoffPolicy = RECONNECT_BACKOFF): number {
  // 2^failures overflows to Infinity long after passing any cap; min() keeps the cap.
  return Math.min(policy.capMs, policy.baseMs * 2 ** failures);
}

/** A delay drawn uniformly from [0, window]; `random` returns a number in [0, 1), as Math.random does. */
export function jitteredDelayMs(windowMs: number, random: () => number): number {
  return Math.floor(random() * (windowMs + 1));
}

/** Counts failures in a row and turns each into a delay. */
export class ReconnectBackoff {
  private failures = 0;
  private policy: BackoffPolicy;

  constructor(
    private readonly random: () => number = Math.random,
    policy: BackoffPolicy = RECONNECT_BACKOFF,
  ) {
    this.policy = { ...policy };
  }

  /**
   * The gateway's welcome names the first window (it knows how many agents will dial at once after a restart); kept
   * within 100 ms and the cap, whatever it says.
   */
  useFirstWindow(windowMs: number): void {
    this.policy.baseMs = Math.min(this.policy.capMs, Math.max(MIN_FIRST_WINDOW_MS, windowMs));
  }

  /** The delay before the next attempt, counting one more failure. */
  next(): number {
    const delay = jitteredDelayMs(backoffWindowMs(this.failures, this.policy), this.random);
    this.failures += 1;
    return delay;
  }

  /** A delay drawn from the largest window, for a refusal that will not lift soon (a ban). */
  atCap(): number {
    return jitteredDelayMs(this.policy.capMs, this.random);
  }

  /** The last session was healthy: start over from the first window. */
  reset(): void {
    this.failures = 0;
  }
}

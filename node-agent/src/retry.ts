// Retries a startup step (reach the gateway, reach the upstream) with capped exponential backoff until it works
// or the agent is told to stop.
import { setTimeout as sleep } from "node:timers/promises";

export interface RetryOptions {
  signal?: AbortSignal | undefined;
  initialDelayMs?: number;
  maxDelayMs?: number;
  onRetry(err: unknown, attempt: number, delayMs: number): void;
}

export async function retryUntilOk<T>(step: () => Promise<T>, options: RetryOptions): Promise<T> {
  let delay = options.initialDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await step();
    } catch (err) {
      options.signal?.throwIfAborted();
      options.onRetry(err, attempt, delay);
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : {});
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

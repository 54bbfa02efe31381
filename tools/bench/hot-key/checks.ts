// The hot-key bench's arithmetic, pure so it can be tested: figures of a closed loop, what a per-minute bucket can
// have let through over a window, and which answers are the wrong refusal.
import { summarize } from "../stats.js";
import { byOutcome, type Answer, type LoopResult } from "./closed-loop.js";

export interface LoopFigures {
  concurrency: number;
  sent: number;
  answered: number;
  /** Answered (200) requests per second. */
  perSecond: number;
  /** Latency of the answered requests (NaN when none was). */
  p50Ms: number;
  p99Ms: number;
  outcomes: [string, number][];
}

export function loopFigures(concurrency: number, loop: LoopResult): LoopFigures {
  const ok = loop.answers.filter((a) => a.status === 200);
  const latency = ok.length > 0 ? summarize(ok.map((a) => a.ms)) : null;
  return {
    concurrency,
    sent: loop.answers.length,
    answered: ok.length,
    perSecond: ok.length / (loop.elapsedMs / 1000),
    p50Ms: latency?.p50 ?? Number.NaN,
    p99Ms: latency?.p99 ?? Number.NaN,
    outcomes: byOutcome(loop.answers),
  };
}

/**
 * The most a per-minute limit can let through between its bucket's start (full, when the key was created) and `endMs`:
 * the burst (the limit itself) plus the refill of limit/60,000 per millisecond, as worker/src/limits/token-bucket.ts.
 */
export function bucketAllowance(limit: number, startMs: number, endMs: number): number {
  return limit + Math.floor((limit * Math.max(0, endMs - startMs)) / 60_000);
}

/** Whether the ramp should go on: the last step beat the best before it by at least `gain` (e.g. 0.05: 5%). */
export function stillRising(perSecond: readonly number[], gain: number): boolean {
  if (perSecond.length < 2) return true;
  const last = perSecond[perSecond.length - 1] ?? 0;
  const before = Math.max(...perSecond.slice(0, -1));
  return last >= before * (1 + gain);
}

/** Answers that are neither a success nor the expected refusal, described, e.g. "429 rate_limit_exceeded ×3". */
export function wrongRefusals(answers: readonly Answer[], expectedCode: string, retryAfter: boolean): string[] {
  const wrong = answers.filter(
    (a) =>
      a.status !== 200 && (a.status !== 429 || a.code !== expectedCode || (retryAfter && !(Number(a.retryAfter) >= 1))),
  );
  return byOutcome(
    wrong.map((a) =>
      a.status === 429 && a.code === expectedCode ? { ...a, code: `${a.code} without Retry-After` } : a,
    ),
  ).map(([label, n]) => `${label} ×${n}`);
}

// The requests every policy serves: Poisson arrivals and answer lengths, drawn once from the seed.
import { isHonest, type SimNode } from "./mesh.js";
import { exponential, logNormal, stream, STREAM } from "./random.js";

/** Completion tokens per answer: log-normal around this median, clipped to 1..MAX_TOKENS. */
export const TOKENS_MEDIAN = 100;
export const TOKENS_SIGMA = 0.8;
export const MAX_TOKENS = 2000;

export interface Workload {
  /** Arrival times, ms, ascending. */
  arrivalAt: Float64Array;
  tokens: Float64Array;
}

export function makeWorkload(seed: number, ratePerSecond: number, durationMs: number): Workload {
  const arrivals = stream(seed, STREAM.arrivals);
  const sizes = stream(seed, STREAM.requests);
  const at: number[] = [];
  const tokens: number[] = [];
  const meanGapMs = 1000 / ratePerSecond;
  for (let t = exponential(arrivals, meanGapMs); t < durationMs; t += exponential(arrivals, meanGapMs)) {
    at.push(t);
    tokens.push(Math.min(MAX_TOKENS, Math.max(1, Math.round(logNormal(sizes, TOKENS_MEDIAN, TOKENS_SIGMA)))));
  }
  return { arrivalAt: Float64Array.from(at), tokens: Float64Array.from(tokens) };
}

/** Mean time a request holds a slot on `node` when idle: round trip + mean TTFT + mean streaming time. */
export function meanServiceMs(node: SimNode): number {
  const meanTokens = TOKENS_MEDIAN * Math.exp((TOKENS_SIGMA * TOKENS_SIGMA) / 2);
  const meanTtft = node.ttftMedianMs * Math.exp((node.ttftSigma * node.ttftSigma) / 2);
  return node.rttMs + meanTtft + (meanTokens * 1000) / node.tokensPerSecond;
}

/**
 * Arrivals per second that keep `load` (0..1) of the starting honest nodes' slots busy on average (Little's law),
 * were every honest node to take requests in proportion to its slots.
 */
export function rateForLoad(nodes: readonly SimNode[], load: number): number {
  let slots = 0;
  let slotMs = 0;
  for (const node of nodes) {
    if (node.joinAt > 0 || !isHonest(node)) continue;
    slots += node.trueCapacity;
    slotMs += node.trueCapacity * meanServiceMs(node);
  }
  return slots === 0 ? 0 : (load * slots * 1000) / (slotMs / slots);
}

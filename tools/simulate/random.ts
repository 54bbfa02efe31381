// Seeded pseudo-random streams. Each purpose (arrivals, request sizes, each node's traits, each node's behaviour, each
// policy's own choices) draws from its own stream, so every policy faces the same workload and the same nodes no
// matter how many numbers another purpose consumed.
import { seededRandom } from "@meshgate/worker/routing";

/** mulberry32 (the router package's seededRandom): 32 bits of state, plenty for a few million requests. */
export class Rng {
  /** Uniform in [0, 1); can be handed to pickNode as `random` unbound. */
  readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }
}

/** Stream ids: each purpose's numbers come from a seed of its own. */
export const STREAM = { nodeTraits: 1, nodeBehaviour: 2, churn: 3, arrivals: 4, requests: 5, policy: 6 } as const;

/** murmur3's finaliser over (seed, stream, index): nearby inputs give unrelated seeds. */
export function streamSeed(seed: number, stream: number, index = 0): number {
  let h = (seed >>> 0) ^ Math.imul(stream + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function stream(seed: number, id: number, index = 0): Rng {
  return new Rng(streamSeed(seed, id, index));
}

/** Standard normal by Box–Muller; always two draws, so a stream's position never depends on the value. */
export function normal(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

export function logNormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(rng));
}

export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(1 - rng.next());
}

export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** An integer in lo..hi, log-uniformly (from lo to hi + 1): as many nodes hold 1 slot as 16–31. */
export function logUniformInt(rng: Rng, lo: number, hi: number): number {
  const x = Math.exp(Math.log(lo) + rng.next() * (Math.log(hi + 1) - Math.log(lo)));
  return Math.min(hi, Math.max(lo, Math.floor(x)));
}

// Arrivals and what each request is: Poisson arrivals per simulated millisecond, a key (the hot one with its share,
// else one of the others uniformly), an isolate (uniformly, with its colo), a node (uniformly) and how long its
// answer takes. Seeded, so a run is repeatable.
import type { LoadConfig } from "./config.js";

/** mulberry32: small, fast, good enough to draw traffic. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Poisson draw with mean `mean` (Knuth's method for small means, a rounded normal above 30). */
export function poisson(mean: number, random: () => number): number {
  if (mean > 30) {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = random(); p > limit; p *= random()) k++;
  return k;
}

export interface DrawnRequest {
  /** 0 is the hot key. */
  key: number;
  isolate: number;
  node: number;
  answerMs: number;
}

export function drawRequest(config: LoadConfig, random: () => number): DrawnRequest {
  const others = config.keys - 1;
  const key = others === 0 || random() < config.hotShare ? 0 : 1 + Math.floor(random() * others);
  const { min, max } = config.answerMs;
  return {
    key,
    isolate: Math.floor(random() * config.isolates),
    node: Math.floor(random() * config.nodes),
    answerMs: min + Math.floor(random() * (max - min + 1)),
  };
}

// Beta reputation (Jøsang & Ismail): successes and failures decay with time; expectation E = (s + 1) / (s + f + 2),
// uncertainty u = 2 / (s + f + 2). Routing uses E + u/2, optimistic while the record is thin, so a new node is weighed
// on its latency prior as if it had a clean record (explored) — but it is held to the exploration share while proven
// nodes have room, until it has proven itself (not trusted: node-estimates.ts, pick.ts).

export interface Reputation {
  successes: number;
  failures: number;
  /** When the counts were last decayed, ms since the epoch. */
  at: number;
}

export const REPUTATION_HALF_LIFE_MS = 10 * 60_000;

export function newReputation(at: number): Reputation {
  return { successes: 0, failures: 0, at };
}

export function decay(rep: Reputation, now: number, halfLifeMs = REPUTATION_HALF_LIFE_MS): Reputation {
  const elapsed = Math.max(0, now - rep.at);
  if (elapsed === 0) return rep;
  const factor = 0.5 ** (elapsed / halfLifeMs);
  return { successes: rep.successes * factor, failures: rep.failures * factor, at: now };
}

/** Adds `weight` units of evidence, for (ok) or against the node. */
export function recordOutcome(rep: Reputation, ok: boolean, now: number, weight = 1): Reputation {
  const d = decay(rep, now);
  return ok ? { ...d, successes: d.successes + weight } : { ...d, failures: d.failures + weight };
}

export function reputationScore(rep: Reputation): number {
  return (rep.successes + 1) / (rep.successes + rep.failures + 2);
}

export function uncertainty(rep: Reputation): number {
  return 2 / (rep.successes + rep.failures + 2);
}

/** Trust never goes below this, so the cost of even a distrusted node stays finite. */
export const TRUST_FLOOR = 0.02;

/**
 * E + u/2 = (s + 2) / (s + f + 2): 1 for a node without a record (as if it had succeeded twice), ≈ E once evidence
 * has piled up; each early failure costs a new node a lot (2/3 after one, 1/2 after two).
 */
export function trust(rep: Reputation): number {
  return Math.max(TRUST_FLOOR, Math.min(1, reputationScore(rep) + uncertainty(rep) / 2));
}

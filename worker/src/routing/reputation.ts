// Beta reputation (Jøsang & Ismail): successes and failures decay with time, score = (s + 1) / (s + f + 2).
// A node with no history scores 0.5: neither trusted nor shunned.

export interface Reputation {
  successes: number;
  failures: number;
  /** When the counts were last decayed, ms since the epoch. */
  at: number;
}

export const REPUTATION_HALF_LIFE_MS = 10 * 60_000;

export function decay(rep: Reputation, now: number, halfLifeMs = REPUTATION_HALF_LIFE_MS): Reputation {
  const elapsed = Math.max(0, now - rep.at);
  if (elapsed === 0) return rep;
  const factor = Math.pow(0.5, elapsed / halfLifeMs);
  return { successes: rep.successes * factor, failures: rep.failures * factor, at: now };
}

export function recordOutcome(rep: Reputation, ok: boolean, now: number): Reputation {
  const d = decay(rep, now);
  return ok ? { ...d, successes: d.successes + 1 } : { ...d, failures: d.failures + 1 };
}

export function reputationScore(rep: Reputation): number {
  return (rep.successes + 1) / (rep.successes + rep.failures + 2);
}

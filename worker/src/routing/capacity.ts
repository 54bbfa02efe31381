// A node's usable concurrency: what it declares in heartbeats, lowered by what its 429s show, recovering with time.

export interface LearnedCapacity {
  limit: number;
  at: number;
}

/** One more concurrent request is allowed back per step after a 429, up to the declared capacity. */
export const CAPACITY_RECOVERY_STEP_MS = 10_000;

/** A 429 while `othersInFlight` requests were open means the node holds at most that many. */
export function learnFromBusy(prev: LearnedCapacity | null, othersInFlight: number, declared: number, now: number): LearnedCapacity {
  const current = effectiveCapacity(declared, prev, now);
  return { limit: Math.max(1, Math.min(current - 1, othersInFlight)), at: now };
}

export function effectiveCapacity(declared: number, learned: LearnedCapacity | null, now: number): number {
  if (!learned) return declared;
  const recovered = learned.limit + Math.floor(Math.max(0, now - learned.at) / CAPACITY_RECOVERY_STEP_MS);
  return Math.min(declared, recovered);
}

// A node's usable concurrency: what it declares in heartbeats, lowered by what its 429s show, recovering with time.

export interface LearnedCapacity {
  limit: number;
  at: number;
}

/** One more concurrent request is allowed back per step after a 429, up to the declared capacity. */
export const CAPACITY_RECOVERY_STEP_MS = 10_000;

/**
 * A 429 while the gateway knew of `othersInFlight` other requests means the node holds at most that many, but never
 * less than half of what it was thought to hold: the node may be busy with requests the gateway cannot see (other
 * isolates since the last heartbeat, its operator's own users), so one surprise halves the limit rather than
 * collapsing it; repeated ones keep halving.
 */
export function learnFromBusy(
  prev: LearnedCapacity | null,
  othersInFlight: number,
  declared: number,
  now: number,
): LearnedCapacity {
  const current = effectiveCapacity(declared, prev, now);
  return { limit: Math.max(1, Math.min(current - 1, Math.max(othersInFlight, Math.floor(current / 2)))), at: now };
}

export function effectiveCapacity(declared: number, learned: LearnedCapacity | null, now: number): number {
  if (!learned) return declared;
  const recovered = learned.limit + Math.floor(Math.max(0, now - learned.at) / CAPACITY_RECOVERY_STEP_MS);
  return Math.min(declared, recovered);
}

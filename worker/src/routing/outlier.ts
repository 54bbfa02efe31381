// Outlier ejection (after Envoy's): a node failing in a row, or failing too large a share of recent requests, is taken
// out of rotation for a time that grows with each ejection (capped), then comes back on probation: one request at a
// time until it succeeds. A failure on probation ejects it again at once.

export interface OutlierState {
  /** Failures since the last success. */
  consecutive: number;
  /** Recent successes and failures, decaying with WINDOW_HALF_LIFE_MS. */
  ok: number;
  failed: number;
  at: number;
  /** Out of rotation until then (0: never ejected or served its time). */
  ejectedUntil: number;
  /** Ejections so far; each makes the next longer. One is forgiven per MAX_EJECTION_MS without a failure. */
  ejections: number;
  /** When the last ejection began or was forgiven. */
  since: number;
  /** Returned from an ejection and not yet proven good again. */
  probation: boolean;
}

export const EJECT_AFTER_CONSECUTIVE = 5;
/** Failure share that ejects, once the window holds at least MIN_WINDOW requests. */
export const EJECT_FAILURE_RATE = 0.1;
export const MIN_WINDOW = 10;
export const WINDOW_HALF_LIFE_MS = 60_000;
export const BASE_EJECTION_MS = 30_000;
export const MAX_EJECTION_MS = 300_000;
/**
 * Never more than this share of the live nodes ejected at once (at least one may always be): if most nodes fail
 * together, the fault is more likely the gateway's or the network's, and ejecting them all would leave nothing.
 */
export const MAX_EJECTED_FRACTION = 0.34;

export function newOutlierState(at: number): OutlierState {
  return { consecutive: 0, ok: 0, failed: 0, at, ejectedUntil: 0, ejections: 0, since: at, probation: false };
}

export function isEjected(s: OutlierState, now: number): boolean {
  return s.ejectedUntil !== 0 && s.ejectedUntil > now;
}

/**
 * Served its ejection and not yet proven good again: the probation starts when the ejection ends, not at the next
 * outcome.
 */
export function onProbation(s: OutlierState, now: number): boolean {
  return s.probation || (s.ejectedUntil !== 0 && s.ejectedUntil <= now);
}

export function ejectionMs(ejections: number): number {
  return Math.min(MAX_EJECTION_MS, BASE_EJECTION_MS * Math.max(1, ejections));
}

/** How many of `total` nodes may be ejected at once. */
export function maxEjected(total: number): number {
  return Math.max(1, Math.floor(total * MAX_EJECTED_FRACTION));
}

function decayWindow(s: OutlierState, now: number): OutlierState {
  const elapsed = Math.max(0, now - s.at);
  if (elapsed === 0) return s;
  const f = 0.5 ** (elapsed / WINDOW_HALF_LIFE_MS);
  return { ...s, ok: s.ok * f, failed: s.failed * f, at: now };
}

/** A node back from ejection is on probation until its first success. */
function leaveEjection(s: OutlierState, now: number): OutlierState {
  return s.ejectedUntil !== 0 && s.ejectedUntil <= now ? { ...s, ejectedUntil: 0, probation: true } : s;
}

export function outlierSuccess(prev: OutlierState, now: number): OutlierState {
  const s = decayWindow(leaveEjection(prev, now), now);
  // A long stretch without failures since the last ejection (or forgiveness) forgives one: a node that recovered
  // sees its penalty shrink again, one step per MAX_EJECTION_MS.
  const forgive = s.ejections > 0 && !s.probation && now - s.since >= MAX_EJECTION_MS;
  return {
    ...s,
    consecutive: 0,
    ok: s.ok + 1,
    probation: false,
    ejections: forgive ? s.ejections - 1 : s.ejections,
    since: forgive ? now : s.since,
  };
}

/**
 * `mayEject`: the caller's count of ejected nodes is below maxEjected. `severe`: the failure alone ejects (a node
 * that held a request without a byte until the timeout, or stopped mid-stream: every further request risks the same).
 */
export function outlierFailure(prev: OutlierState, now: number, mayEject: boolean, severe = false): OutlierState {
  // Requests still in flight when the node was ejected fail meanwhile: they say nothing new, and must not count
  // against it once it returns.
  if (isEjected(prev, now)) return prev;
  const s = decayWindow(leaveEjection(prev, now), now);
  const next = { ...s, consecutive: s.consecutive + 1, failed: s.failed + 1, since: s.ejections > 0 ? now : s.since };
  const total = next.ok + next.failed;
  const tripped =
    severe ||
    next.probation ||
    next.consecutive >= EJECT_AFTER_CONSECUTIVE ||
    (total >= MIN_WINDOW && next.failed / total >= EJECT_FAILURE_RATE);
  if (!tripped || !mayEject) return next;
  const ejections = next.ejections + 1;
  // The window starts afresh, so the node is judged on what it does after it returns.
  return {
    ...next,
    ok: 0,
    failed: 0,
    consecutive: 0,
    ejections,
    since: now,
    ejectedUntil: now + ejectionMs(ejections),
    probation: false,
  };
}

/** An ejection decided elsewhere (an unreachable probe): same timing rules. */
export function eject(prev: OutlierState, now: number): OutlierState {
  if (isEjected(prev, now)) return prev;
  const ejections = prev.ejections + 1;
  return {
    ...prev,
    ok: 0,
    failed: 0,
    consecutive: 0,
    ejections,
    since: now,
    ejectedUntil: now + ejectionMs(ejections),
    probation: false,
  };
}

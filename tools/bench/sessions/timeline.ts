// When things happened during a phase, as rates and milestones: how fast nodes came back, and whether they came back
// spread out (a flat rate) or in a herd (one tall second).

/** Events per one-second bucket from `origin`: bucket i counts [origin + i s, origin + (i + 1) s). Earlier ones drop. */
export function perSecond(times: readonly number[], origin: number): number[] {
  const buckets: number[] = [];
  for (const t of times) {
    if (t < origin) continue;
    const i = Math.floor((t - origin) / 1000);
    while (buckets.length <= i) buckets.push(0);
    buckets[i] = (buckets[i] ?? 0) + 1;
  }
  return buckets;
}

/** The busiest second's count (0 with no events). */
export function peakPerSecond(times: readonly number[], origin: number): number {
  return Math.max(0, ...perSecond(times, origin));
}

/**
 * Seconds after `origin` by which `fraction` of `total` events had happened (events are times in ms, any order);
 * null if fewer than that ever did.
 */
export function secondsToFraction(
  times: readonly number[],
  origin: number,
  total: number,
  fraction: number,
): number | null {
  const needed = Math.max(1, Math.ceil(total * fraction));
  if (times.length < needed) return null;
  const sorted = [...times].sort((a, b) => a - b);
  const at = sorted[needed - 1];
  return at === undefined ? null : (at - origin) / 1000;
}

/**
 * The start in [from, to] of the `widthMs` window holding the most of `times` (the earliest such start, aligned on an
 * event): where a short measurement catches the most events.
 */
export function busiestWindow(times: readonly number[], from: number, to: number, widthMs: number): number {
  const sorted = times.filter((t) => t >= from && t < to + widthMs).sort((a, b) => a - b);
  let best = from;
  let bestCount = -1;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    const at = sorted[start] ?? from;
    if (at > to) break;
    while (end < sorted.length && (sorted[end] ?? Number.POSITIVE_INFINITY) < at + widthMs) end++;
    if (end - start > bestCount) {
      bestCount = end - start;
      best = at;
    }
  }
  return best;
}

/** The start in [from, to], on a `stepMs` grid, of the `widthMs` window holding the fewest of `times`. */
export function quietestWindow(
  times: readonly number[],
  from: number,
  to: number,
  widthMs: number,
  stepMs = 100,
): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = from;
  let bestCount = Number.POSITIVE_INFINITY;
  let lo = 0;
  let hi = 0;
  for (let start = from; start <= to; start += stepMs) {
    while (lo < sorted.length && (sorted[lo] ?? 0) < start) lo++;
    while (hi < sorted.length && (sorted[hi] ?? 0) < start + widthMs) hi++;
    if (hi - lo < bestCount) {
      bestCount = hi - lo;
      best = start;
    }
  }
  return best;
}

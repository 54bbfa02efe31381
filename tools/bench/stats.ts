// Summaries of latency samples. Pure, so the arithmetic the targets are judged by can be unit-tested.

export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * The q-quantile (0..1) of ascending `sorted`, interpolating linearly between the two nearest ranks (the method of
 * numpy's default and R's type 7), so p50 of an even-sized sample is the mean of its middle pair.
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error("quantile of an empty sample");
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile ${q} is outside 0..1`);
  const rank = q * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[hi] ?? Number.NaN;
  return a + (b - a) * (rank - lo);
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error("cannot summarize an empty sample");
  const sorted = [...values].sort((x, y) => x - y);
  let total = 0;
  for (const v of sorted) total += v;
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    mean: total / sorted.length,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** Nanoseconds from `process.hrtime.bigint()` differences to milliseconds, as a float. */
export function nsToMs(ns: bigint): number {
  return Number(ns) / 1e6;
}

/** Requests per second for `count` requests completed in `elapsedNs`. */
export function ratePerSecond(count: number, elapsedNs: bigint): number {
  const seconds = Number(elapsedNs) / 1e9;
  return seconds > 0 ? count / seconds : Number.NaN;
}

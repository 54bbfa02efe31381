// Sums of money and token counts: integers, added as doubles, which hold every integer only up to 2^53 - 1. Past
// that a sum would be silently rounded, so it throws instead: a figure that is wrong must never be reported or signed.

/** a + b, or a RangeError naming `what` when the sum is no longer a safe (exact) integer. */
export function exactSum(a: number, b: number, what: string): number {
  const sum = a + b;
  if (!Number.isSafeInteger(sum)) throw new RangeError(`${what} passes 2^53 - 1 and can no longer be summed exactly`);
  return sum;
}

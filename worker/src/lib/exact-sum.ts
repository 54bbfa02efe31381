// Sums of money and token counts. They are integers, and a double holds every integer only up to 2^53 - 1: past
// that a sum would be silently rounded. So they are added in BigInt, which has no such limit, and turned back into a
// number only where a figure must be a plain JSON number (a signed statement), checked there.

/** The exact sum; a RangeError for a value that is not an integer (a bug: money and tokens are whole). */
export function bigSum(values: Iterable<number | bigint>): bigint {
  let sum = 0n;
  for (const value of values) sum += typeof value === "bigint" ? value : BigInt(value);
  return sum;
}

/**
 * `value` as a number, or a RangeError naming `what` when it is not a safe integer: a rounded figure is never signed.
 */
export function safeNumber(value: bigint, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || BigInt(n) !== value)
    throw new RangeError(`${what} (${value}) passes 2^53 - 1 and is no longer exact as a number`);
  return n;
}

/**
 * An integer as SQL gives it back when asked for text (CAST(… AS TEXT)): exact at any size, where the number the
 * runtime would give is rounded above 2^53. Null (a sum over no rows) is 0.
 */
export function bigFromSql(value: unknown): bigint {
  if (value === null) return 0n;
  if (typeof value === "string" && /^-?\d{1,40}$/.test(value)) return BigInt(value);
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
  throw new RangeError(`not an exact integer from SQL: ${String(value)}`);
}

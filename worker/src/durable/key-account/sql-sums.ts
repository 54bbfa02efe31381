// SQL sums of integer columns that neither overflow nor round. SQLite's SUM() throws past 2^63 - 1, and the runtime
// hands back an integer above 2^53 as an inexact number. So a column is summed in two halves, its bits above and
// below 32 (x = (x >> 32) · 2^32 + (x & 0xFFFFFFFF) for every int64), each half's sum read back as text; the halves
// overflow only after 2^31 rows of the largest int64, and are joined exactly in BigInt.
import { bigFromSql } from "../../lib/exact-sum.js";

/** The low 32 bits of an int64, as SQL text. */
export const LOW_MASK = "4294967295";
const HALF = 2n ** 32n;

/**
 * The select list of one summed figure, as `<alias>_hi` and `<alias>_lo`. `high` adds to the high half: a column
 * that carries its overflow into another (the daily roll-ups) passes that column here.
 */
export function sumHalves(expr: string, alias: string, high?: string): string {
  const hi = high === undefined ? `(${expr}) >> 32` : `((${expr}) >> 32) + ${high}`;
  return `CAST(SUM(${hi}) AS TEXT) AS ${alias}_hi, CAST(SUM((${expr}) & ${LOW_MASK}) AS TEXT) AS ${alias}_lo`;
}

/** The figure a row of sumHalves() columns stands for. */
export function joinHalves(row: Record<string, SqlStorageValue>, alias: string): bigint {
  return bigFromSql(row[`${alias}_hi`] ?? null) * HALF + bigFromSql(row[`${alias}_lo`] ?? null);
}

/**
 * An upsert's SET clause that adds `excluded.<column>` to `<column>` without ever passing int64: the low 32 bits of
 * the sum stay in the column and the rest is carried into `<column>_hi` (in units of 2^32). A column written before
 * the carry existed may hold more than 32 bits; it is split on its first update. Read with sumHalves(column, alias,
 * `<column>_hi`). `addedHigh`: the added row brings a high half of its own (`excluded.<column>_hi`), added too.
 */
export function carryingAdd(column: string, addedHigh = false): string {
  const low = `((${column} & ${LOW_MASK}) + (excluded.${column} & ${LOW_MASK}))`;
  const high = addedHigh ? ` + excluded.${column}_hi` : "";
  return `${column}_hi = ${column}_hi${high} + (${column} >> 32) + (excluded.${column} >> 32) + (${low} >> 32), ${column} = ${low} & ${LOW_MASK}`;
}

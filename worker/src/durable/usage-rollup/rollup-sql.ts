// Writing and reading the roll-up's sums. Every figure is kept as (low 32 bits, rest in units of 2^32) and added with
// a carry, then read back summed in halves as text and joined in BigInt (sql-sums.ts): exact at any size.
import { DAY_MS } from "../../billing/retention.js";
import type { RollupDimension, RollupRow } from "../../billing/rollup-sums.js";
import { SUM_FIELDS } from "../../billing/usage-sums.js";
import { carryingAdd, joinHalves, LOW_MASK, sumHalves } from "../key-account/sql-sums.js";

const LOW = 0xffffffffn;

/** How the admin report groups: a dimension's own table, or by day (from the model table: any holds the totals). */
export type RollupGrouping = RollupDimension | "day";

/** One group's figures, in SUM_FIELDS order, as decimal strings (exact, and plain over RPC). */
export interface RollupGroup {
  group: string;
  sums: string[];
}

const COLUMNS = SUM_FIELDS.flatMap((f) => [f, `${f}_hi`]).join(", ");
const PLACES = SUM_FIELDS.map(() => "?, ?").join(", ");
const CARRY = SUM_FIELDS.map((f) => carryingAdd(f, true)).join(", ");

/** Adds one group's figures to its hour's row (or its day's, `daily`). Table names are this code's constants. */
export function addRow(sql: SqlStorage, dimension: RollupDimension, row: RollupRow, daily: boolean): void {
  const halves = row.sums.flatMap((s) => {
    const v = BigInt(s);
    return [Number(v & LOW), Number(v >> 32n)];
  });
  const [table, time] = daily ? [`daily_${dimension}`, "day"] : [`hourly_${dimension}`, "hour"];
  const at = daily ? row.hour - (row.hour % DAY_MS) : row.hour;
  sql.exec(
    `INSERT INTO ${table} (${time}, grp, ${COLUMNS}) VALUES (?, ?, ${PLACES})
     ON CONFLICT (${time}, grp) DO UPDATE SET ${CARRY}`,
    at,
    row.group,
    ...halves,
  );
}

/** Folds the hourly rows before `before` (a midnight) into daily rows, then deletes them. */
export function foldHours(sql: SqlStorage, dimension: RollupDimension, before: number): void {
  const sums = SUM_FIELDS.map((f) => `SUM(${f}) & ${LOW_MASK}, SUM(${f}_hi) + (SUM(${f}) >> 32)`).join(", ");
  sql.exec(
    `INSERT INTO daily_${dimension} (day, grp, ${COLUMNS})
     SELECT hour - hour % ${DAY_MS} AS d, grp, ${sums} FROM hourly_${dimension} WHERE hour < ? GROUP BY d, grp
     ON CONFLICT (day, grp) DO UPDATE SET ${CARRY}`,
    before,
  );
  sql.exec(`DELETE FROM hourly_${dimension} WHERE hour < ?`, before);
}

const SUMS = SUM_FIELDS.map((f) => sumHalves(f, f, `${f}_hi`)).join(", ");

type SumsRow = Record<string, SqlStorageValue>;

/** Groups over [from, to): hourly rows by hour, daily rows by day (the two never hold the same hour). */
export function readGroups(sql: SqlStorage, grouping: RollupGrouping, from: number, to: number): RollupGroup[] {
  const dimension = grouping === "day" ? "model" : grouping;
  const parts = [
    { table: `hourly_${dimension}`, time: "hour" },
    { table: `daily_${dimension}`, time: "day" },
  ];
  const groups: RollupGroup[] = [];
  for (const { table, time } of parts) {
    const grp = grouping === "day" ? `${time} - ${time} % ${DAY_MS}` : "grp";
    const rows = sql.exec<SumsRow>(
      `SELECT ${grp} AS g, ${SUMS} FROM ${table} WHERE ${time} >= ? AND ${time} < ? GROUP BY g`,
      from,
      to,
    );
    for (const row of rows) {
      const group = grouping === "day" ? new Date(Number(row["g"])).toISOString().slice(0, 10) : String(row["g"]);
      groups.push({ group, sums: SUM_FIELDS.map((f) => joinHalves(row, f).toString()) });
    }
  }
  return groups;
}

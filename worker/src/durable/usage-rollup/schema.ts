// The usage roll-up's tables and their upgrades.
import { ROLLUP_DIMENSIONS } from "../../billing/rollup-sums.js";
import { SUM_FIELDS } from "../../billing/usage-sums.js";
import type { Migration } from "../migrations.js";

/** Each figure in two columns: its low 32 bits and the rest, in units of 2^32 (see sql-sums.ts), so sums stay exact. */
const FIGURES = SUM_FIELDS.map((f) => `${f} INTEGER NOT NULL, ${f}_hi INTEGER NOT NULL`).join(", ");

/**
 * Step 1: hourly and daily sums by key, by model and by node (one table each: their cross product would grow with
 * keys × models × nodes); the last batch number heard from each cell; and the hour before which hourly rows were
 * folded into daily ones.
 */
function rollupTables(sql: SqlStorage): void {
  for (const dimension of ROLLUP_DIMENSIONS) {
    sql.exec(`CREATE TABLE hourly_${dimension} (hour INTEGER NOT NULL, grp TEXT NOT NULL, ${FIGURES},
      PRIMARY KEY (hour, grp))`);
    sql.exec(`CREATE TABLE daily_${dimension} (day INTEGER NOT NULL, grp TEXT NOT NULL, ${FIGURES},
      PRIMARY KEY (day, grp))`);
  }
  sql.exec(`CREATE TABLE cells (cell TEXT PRIMARY KEY, seq INTEGER NOT NULL);
  CREATE TABLE rollup_state (id INTEGER PRIMARY KEY CHECK (id = 1), folded_before INTEGER NOT NULL);
  INSERT INTO rollup_state (id, folded_before) VALUES (1, 0)`);
}

export const ROLLUP_MIGRATIONS: readonly Migration[] = [rollupTables];

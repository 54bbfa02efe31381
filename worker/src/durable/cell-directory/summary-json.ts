// The cells' summaries as JSON carries them: the directory's bytes, which isolates read through the Cache API (it
// stores bytes, not Maps).
import type { CellModelSummary, CellSummary } from "../../routing/index.js";

/** A cell's summary as JSON carries it (the Cache API stores bytes, not Maps). */
export interface CellSummaryJson {
  cell: number;
  at: number;
  models: Record<string, CellModelSummary>;
}

/** What isolates read: every cell's latest summary. `version` grows with every summary the directory took. */
export interface DirectoryJson {
  version: number;
  cells: CellSummaryJson[];
}

/** A tenth of a millisecond is finer than any choice needs; the directory's bytes are every isolate's to read. */
export function summaryToJson(s: CellSummary): CellSummaryJson {
  const models: Record<string, CellModelSummary> = {};
  for (const [model, m] of s.models)
    models[model] = { ...m, ttftMs: m.ttftMs === null ? null : Math.round(m.ttftMs * 10) / 10 };
  return { cell: s.cell, at: s.at, models };
}

export function summaryFromJson(s: CellSummaryJson): CellSummary {
  return { cell: s.cell, at: s.at, models: new Map(Object.entries(s.models)) };
}

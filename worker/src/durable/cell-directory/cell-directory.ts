import { DurableObject } from "cloudflare:workers";
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

export function summaryToJson(s: CellSummary): CellSummaryJson {
  return { cell: s.cell, at: s.at, models: Object.fromEntries(s.models) };
}

export function summaryFromJson(s: CellSummaryJson): CellSummary {
  return { cell: s.cell, at: s.at, models: new Map(Object.entries(s.models)) };
}

/** Summaries older than this are left out: a cell that stopped reporting (idle, or gone) says nothing current. */
const SUMMARY_MAX_AGE_MS = 30_000;

/**
 * The cells' directory: each cell reports its summary about once a second while it admits requests; isolates read
 * all of them at once (through the colo's cache), so a cold isolate chooses well without asking every cell. Kept in
 * memory only: after a restart the cells refill it within a second, and meanwhile isolates choose at random.
 */
export class CellDirectory extends DurableObject<Env> {
  private readonly summaries = new Map<number, CellSummaryJson>();
  private version = 0;

  report(summary: CellSummaryJson): void {
    const held = this.summaries.get(summary.cell);
    if (held && held.at >= summary.at) return;
    this.summaries.set(summary.cell, summary);
    this.version++;
  }

  read(now: number): DirectoryJson {
    const cells = [...this.summaries.values()].filter((s) => now - s.at <= SUMMARY_MAX_AGE_MS);
    return { version: this.version, cells };
  }
}

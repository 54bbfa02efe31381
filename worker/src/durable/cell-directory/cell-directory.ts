import { DurableObject } from "cloudflare:workers";
import type { CellSummaryJson, DirectoryJson } from "./summary-json.js";

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

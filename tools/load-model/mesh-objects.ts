// The mesh's Durable Objects as the load model needs them (unchanged by issue 17's account side): a cell reads its
// listing from the registry, reports to the directory and passes its outcomes on at the real cells' pace. Only the
// calls they make to other objects matter here; what they store does not.
import { CELL_REFRESH_MS } from "../../worker/src/durable/admission-cell/cell-listing.js";
import { cellDirectory, nodeRegistry } from "../../worker/src/durable/names.js";
import { Batcher } from "../../worker/src/lib/batcher.js";
import type { Outcome } from "../../worker/src/routing/index.js";
import { backgroundContext } from "./isolate.js";
import { DIRECTORY_REPORT_MS, OUTCOME_BATCH_MS } from "./source-constants.js";

/** A cell's calls to other objects: its listing read, its directory report, its outcomes batch. */
export class AdmissionCellModel {
  private reportedAt = -Infinity;
  private listedAt = -Infinity;
  private readonly outcomes: Batcher<Outcome>;

  constructor(private readonly env: Env) {
    this.outcomes = new Batcher<Outcome>({
      delayMs: OUTCOME_BATCH_MS,
      maxItems: 500,
      async write(outcomes, env) {
        await nodeRegistry(env).recordOutcomes(outcomes, Date.now());
      },
    });
  }

  acquire(req: { cell: number; cells: number }, _now: number): { kind: "node" } {
    const wall = Date.now();
    // CellListing.tableFor: read again behind requests once the listing is CELL_REFRESH_MS old.
    if (wall - this.listedAt >= CELL_REFRESH_MS) {
      this.listedAt = wall;
      void nodeRegistry(this.env).cellSnapshot(req.cell, req.cells, wall);
    }
    if (wall - this.reportedAt >= DIRECTORY_REPORT_MS) {
      this.reportedAt = wall;
      void cellDirectory(this.env).report({ cell: req.cell, at: wall, models: {} });
    }
    return { kind: "node" };
  }

  release(released: { leaseId: string; outcome: Outcome | null }[], _now: number): void {
    for (const { outcome } of released) if (outcome) this.outcomes.add(outcome, this.env, backgroundContext);
  }

  renew(_ids: string[], _now: number): string[] {
    return [];
  }
}

export class CellDirectoryModel {
  report(): void {}

  read(_now: number): { version: number; cells: [] } {
    return { version: 0, cells: [] };
  }
}

export class NodeRegistryModel {
  recordOutcomes(outcomes: Outcome[], _now: number): number {
    return outcomes.length;
  }

  cellSnapshot(): [] {
    return [];
  }
}

// Today's Durable Objects, as little of each as the load model needs: the key index finds every key, an account
// grants every reservation and records every row (pushing its receipts to the earnings shards as its outbox does), a
// cell reports to the directory and its outcomes to the registry at today's pace. Only the calls they make to other
// objects matter here; what they store does not.
import type { ApiKeyIdentity } from "../../worker/src/http/auth.js";
import type { Earning, Reservation, ReserveResult, UsageEntry } from "../../worker/src/billing/records.js";
import type { UsageAnswer } from "../../worker/src/billing/usage-report.js";
import { CELL_REFRESH_MS } from "../../worker/src/durable/admission-cell/cell-listing.js";
import { cellDirectory, earningsShard, nodeRegistry } from "../../worker/src/durable/names.js";
import { Batcher } from "../../worker/src/lib/batcher.js";
import type { Outcome } from "../../worker/src/routing/index.js";
import { backgroundContext } from "./isolate.js";
import { OutboxModel } from "./outbox-model.js";
import { DIRECTORY_REPORT_MS, OUTCOME_BATCH_MS } from "./source-constants.js";

/** One key as the index knows it. */
export interface KeyRecord {
  identity: ApiKeyIdentity;
  hash: string;
}

export class ApiKeysModel {
  private readonly byHash = new Map<string, ApiKeyIdentity>();

  constructor(private readonly keys: readonly KeyRecord[]) {
    for (const k of keys) this.byHash.set(k.hash, k.identity);
  }

  lookup(hash: string): ApiKeyIdentity | null {
    return this.byHash.get(hash) ?? null;
  }

  list(): { id: string; name: string }[] {
    return this.keys.map((k) => ({ id: k.identity.id, name: k.identity.name }));
  }
}

const ZERO_SUMS = {
  requests: 0n,
  prompt_tokens: 0n,
  completion_tokens: 0n,
  total_tokens: 0n,
  cost: 0n,
  node_amount: 0n,
  billable_requests: 0n,
  estimated_requests: 0n,
};

/** The earning a billable row's receipt would give (earningOf decodes a real receipt; the model has none). */
function earningFor(e: UsageEntry): Earning | null {
  if (!e.billable || e.receipt === null) return null;
  const { request_id, node_id, receipt, prompt_tokens, completion_tokens, node_amount, created } = e;
  return { request_id, node_id, receipt, leaf: "0x", prompt_tokens, completion_tokens, amount: node_amount, created };
}

export class KeyAccountModel {
  private readonly outbox: OutboxModel;

  constructor(env: Env) {
    this.outbox = new OutboxModel((shard, earnings) => earningsShard(env, shard).add(earnings, Date.now()));
  }

  reserve(_r: Reservation, _now: number): ReserveResult {
    return { ok: true, headers: {} };
  }

  release(_ids: string[], _now: number): void {}

  /** As KeyAccount.record: queue each billable receipt, then push the outbox before answering. */
  async record(entries: UsageEntry[], _now: number): Promise<number> {
    let queued = false;
    for (const e of entries) {
      const earning = earningFor(e);
      if (earning) {
        this.outbox.queue(earning);
        queued = true;
      }
    }
    if (queued) await this.outbox.flush();
    return entries.length;
  }

  usage(): UsageAnswer {
    return { totals: { ...ZERO_SUMS }, groups: [], rows: [], has_more: false };
  }
}

export class EarningsShardModel {
  add(earnings: Earning[], _now: number): number {
    return earnings.length;
  }
}

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

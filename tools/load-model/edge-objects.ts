// The Durable Objects of the sharded design, as little of each as the load model needs. What they answer comes from
// the same pure rules as the real objects where that decides the traffic: a key's account is a MemoryAccount (the
// slice and reservation rules of billing/slices.ts and reservation.ts), so the leases the purses make are the ones
// the real account would grant. A cell writes usage ahead and flushes it on the UsageWal's rule: per flush, one
// record per key, one add per earnings shard, one batch to the roll-up. Only the calls they make to other objects
// are counted; what they store does not matter.
import { MemoryAccount } from "../../worker/src/billing/memory-account.js";
import type { LeaseReply, LeaseRequest } from "../../worker/src/billing/slices.js";
import type { Earning, KeyLimits, Reservation, ReserveResult, UsageEntry } from "../../worker/src/billing/records.js";
import { rollupBatch } from "../../worker/src/billing/rollup-sums.js";
import type { KeyLookup } from "../../worker/src/durable/api-keys/api-keys.js";
import type { Released } from "../../worker/src/durable/admission-cell/admission-cell.js";
import { DEFAULT_USAGE_FLUSH_MS } from "../../worker/src/durable/admission-cell/usage-wal.js";
import {
  earningsShard,
  earningsShardOf,
  earningsShards,
  keyAccount,
  usageRollup,
} from "../../worker/src/durable/names.js";
import { groupBy } from "../../worker/src/lib/group-by.js";
import { keyShardOf } from "../../worker/src/keys/key-shard.js";
import { backgroundContext } from "./isolate.js";
import { AdmissionCellModel } from "./mesh-objects.js";
import type { LoadKey } from "./world.js";

/** One shard of the key index (`keys:<n>`), or its root (`keys`): finds its keys by hash, lists them. */
export class KeyIndexModel {
  private readonly byHash = new Map<string, KeyLookup>();
  private readonly mine: LoadKey[];

  constructor(
    name: string,
    private readonly keys: readonly LoadKey[],
  ) {
    const shard = /^keys:(\d+)$/.exec(name);
    this.mine = shard ? keys.filter((k) => keyShardOf(k.identity.id) === Number(shard[1])) : [];
    for (const k of this.mine) this.byHash.set(k.hash, k.identity);
  }

  lookup(hash: string): KeyLookup | null {
    return this.byHash.get(hash) ?? null;
  }

  list(): { id: string; name: string; created: number }[] {
    return this.mine.map((k) => ({ id: k.identity.id, name: k.identity.name, created: 0 }));
  }

  // The root's part: which shards hold keys; no legacy keys are left to move.
  occupiedShards(): number[] {
    return [...new Set(this.keys.map((k) => keyShardOf(k.identity.id)))];
  }

  exportBatch(): { keys: []; moved: boolean } {
    return { keys: [], moved: true };
  }
}

/** A replica of the key-changes feed; nothing changes during a run. */
export class KeyChangesModel {
  read(_now: number): { head: number; first: number; changes: [] } {
    return { head: 0, first: 1, changes: [] };
  }
}

/** A key's account: the real rules in memory; records charge it as KeyAccount.record does. */
export class KeyAccountModel {
  private readonly account: MemoryAccount;
  /** Request ids recorded (a prompt row arrives again with its cell's flush: charged once, as the account does). */
  private readonly recorded = new Set<string>();

  constructor(limits: KeyLimits, now: number) {
    this.account = new MemoryAccount(limits, now);
  }

  reserve(r: Reservation, now: number): Promise<ReserveResult> {
    return this.account.reserve(r, now);
  }

  release(ids: string[], now: number): Promise<void> {
    return this.account.release(ids, now);
  }

  lease(l: LeaseRequest, now: number): Promise<LeaseReply> {
    return this.account.lease(l, now);
  }

  record(entries: UsageEntry[], now: number): number {
    let added = 0;
    for (const e of entries) {
      if (this.recorded.has(e.request_id)) continue;
      this.recorded.add(e.request_id);
      this.account.record(e, now);
      added++;
    }
    return added;
  }
}

export class EarningsShardModel {
  add(earnings: Earning[], _now: number): number {
    return earnings.length;
  }
}

export class UsageRollupModel {
  add(_cell: string, _seq: number, _batch: unknown, _now: number): boolean {
    return true;
  }

  usage(): [] {
    return [];
  }
}

/** The earning a billable row's receipt would give (earningOf decodes a real receipt; the model has none). */
function earningFor(e: UsageEntry): Earning | null {
  if (!e.billable || e.receipt === null) return null;
  const { request_id, node_id, receipt, prompt_tokens, completion_tokens, node_amount, created } = e;
  return { request_id, node_id, receipt, leaf: "0x", prompt_tokens, completion_tokens, amount: node_amount, created };
}

/**
 * A cell as today's (its listing, directory report and outcome batches), plus the usage write-ahead: rows arrive with
 * their releases, prompt ones go to their accounts at once, and a flush every USAGE_FLUSH_MS sends the rest.
 */
export class WriteAheadCellModel extends AdmissionCellModel {
  /** Rows not yet sent to their accounts (a prompt row was, as its release arrived). */
  private forAccounts: UsageEntry[] = [];
  /** Rows not yet sent to the earnings shards and the roll-up. */
  private forTotals: UsageEntry[] = [];
  private flushing = false;

  constructor(
    private readonly cellEnv: Env,
    private readonly cellName: string,
  ) {
    super(cellEnv);
  }

  override release(released: Released[], now: number): void {
    super.release(released, now);
    const rows = released.flatMap((r) => (r.usage ? [r.usage] : []));
    const prompt = rows.filter((r) => r.prompt).map((r) => r.entry);
    if (prompt.length > 0) backgroundContext.waitUntil(this.recordAll(prompt, now));
    this.forAccounts.push(...rows.filter((r) => !r.prompt).map((r) => r.entry));
    this.forTotals.push(...rows.map((r) => r.entry));
    this.flushLater();
  }

  private flushLater(): void {
    if (this.flushing || this.forTotals.length === 0) return;
    this.flushing = true;
    setTimeout(() => backgroundContext.waitUntil(this.flush()), DEFAULT_USAGE_FLUSH_MS);
  }

  private async flush(): Promise<void> {
    const forAccounts = this.forAccounts;
    const rows = this.forTotals;
    this.forAccounts = [];
    this.forTotals = [];
    const now = Date.now();
    const earnings = rows.flatMap((e) => earningFor(e) ?? []);
    const shards = earningsShards(this.cellEnv);
    await Promise.all([
      this.recordAll(forAccounts, now),
      ...[...groupBy(earnings, (e) => earningsShardOf(e.node_id, shards))].map(([shard, batch]) =>
        earningsShard(this.cellEnv, shard).add(batch, now),
      ),
      usageRollup(this.cellEnv).add(this.cellName, 1, rollupBatch(rows), now),
    ]);
    this.flushing = false;
    this.flushLater();
  }

  private async recordAll(rows: readonly UsageEntry[], now: number): Promise<void> {
    await Promise.all(
      [...groupBy(rows, (e) => e.key_id)].map(([keyId, batch]) => keyAccount(this.cellEnv, keyId).record(batch, now)),
    );
  }
}

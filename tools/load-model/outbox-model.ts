// A KeyAccount's outbox as today's code pushes it (durable/key-account/key-account.ts, drainOutbox), run over an
// in-memory table: the real queueEarning (which picks the shard with earningsShardOf), outboxByShard (the oldest
// OUTBOX_BATCH, grouped by shard) and acknowledge, given a fake SqlStorage that answers exactly their statements.
import type { Earning } from "../../worker/src/billing/records.js";
import { acknowledge, outboxByShard, queueEarning } from "../../worker/src/durable/key-account/outbox.js";
import { OUTBOX_BATCH } from "./source-constants.js";

type Row = Earning & { shard: number };

/** Enough of SqlStorage for outbox.ts: INSERT one earning, SELECT the oldest `limit`, DELETE acknowledged ids. */
class OutboxTable {
  rows: Row[] = [];

  exec(query: string, ...args: unknown[]): Iterable<Row> {
    if (query.startsWith("INSERT")) {
      const [request_id, shard, node_id, receipt, leaf, prompt_tokens, completion_tokens, amount, created] = args;
      this.rows.push({
        request_id,
        shard,
        node_id,
        receipt,
        leaf,
        prompt_tokens,
        completion_tokens,
        amount,
        created,
      } as Row);
      return [];
    }
    if (query.startsWith("SELECT")) return this.rows.slice(0, Number(args[0]));
    if (query.startsWith("DELETE")) {
      const gone = new Set(JSON.parse(String(args[0])) as string[]);
      this.rows = this.rows.filter((r) => !gone.has(r.request_id));
      return [];
    }
    throw new Error(`the outbox model does not know: ${query}`);
  }
}

/** Sends one batch of earnings to one shard (the earnings shard's `add`, through its stub). */
export type PushToShard = (shard: number, earnings: Earning[]) => Promise<unknown>;

export class OutboxModel {
  private readonly table = new OutboxTable();
  private flushing: Promise<void> | null = null;

  constructor(private readonly push: PushToShard) {}

  private get sql(): SqlStorage {
    return this.table as unknown as SqlStorage;
  }

  queue(earning: Earning): void {
    queueEarning(this.sql, earning);
  }

  /** As KeyAccount.flushOutbox: one drain at a time; records that come meanwhile join it. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const byShard = outboxByShard(this.sql, OUTBOX_BATCH);
      if (byShard.size === 0) return;
      await Promise.all(
        [...byShard].map(async ([shard, earnings]) => {
          await this.push(shard, earnings);
          acknowledge(
            this.sql,
            earnings.map((e) => e.request_id),
          );
        }),
      );
    }
  }
}

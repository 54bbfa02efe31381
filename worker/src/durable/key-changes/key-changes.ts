import { DurableObject } from "cloudflare:workers";
import { migrate, type Migration } from "../migrations.js";
import type { ChangesJson } from "../../keys/changes-json.js";

/**
 * How long, and how many, changes a replica keeps. An isolate reads its replica about once a second while it serves;
 * one that fell behind the tail forgets every cached key (keys/key-cache.ts), which is safe. Twice the key cache's
 * entry lifetime: an isolate idle longer has no entry left to drop. The count bounds one read's size (~40 bytes a change).
 */
export const CHANGES_TAIL_MS = 120_000;
export const CHANGES_TAIL_COUNT = 2_000;

const MIGRATIONS: readonly Migration[] = [
  (sql) => {
    sql.exec("CREATE TABLE changes (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, at INTEGER NOT NULL)");
    // The head survives trimming every row: sequence numbers never go back, or isolates would miss changes.
    sql.exec("CREATE TABLE head (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL)");
    sql.exec("INSERT INTO head (one, seq) VALUES (1, 0)");
  },
];

/**
 * One replica of the key-changes feed: which keys were revoked or had their limits changed, in order. Admin routes
 * write each change to the key's shard first, then to every replica; isolates read one replica through the colo's
 * cache (http/key-source.ts) and drop those keys from their caches.
 */
export class KeyChanges extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, MIGRATIONS);
  }

  /** Appends a change per id (a repeated id is a new change: publishing again is how a failed publication is retried). */
  publish(ids: readonly string[], now: number): number {
    let head = this.head();
    for (const id of ids) this.sql.exec("INSERT INTO changes (seq, id, at) VALUES (?, ?, ?)", ++head, id, now);
    this.sql.exec("UPDATE head SET seq = ?", head);
    this.sql.exec("DELETE FROM changes WHERE at < ? OR seq <= ?", now - CHANGES_TAIL_MS, head - CHANGES_TAIL_COUNT);
    return head;
  }

  read(now: number): ChangesJson {
    // Filtered, not trimmed: a read writes nothing.
    const changes = this.sql
      .exec<{ seq: number; id: string }>(
        "SELECT seq, id FROM changes WHERE at >= ? ORDER BY seq",
        now - CHANGES_TAIL_MS,
      )
      .toArray();
    const head = this.head();
    return { head, first: changes[0]?.seq ?? head + 1, changes };
  }

  private head(): number {
    return this.sql.exec<{ seq: number }>("SELECT seq FROM head").one().seq;
  }
}

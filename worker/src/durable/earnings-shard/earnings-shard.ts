import { DurableObject } from "cloudflare:workers";
import type { SettlementNode } from "@meshgate/schemas";
import type { Earning } from "../../billing/records.js";
import { BLOCK_LEAVES } from "../../billing/node-subtree.js";
import { closeShard, shardBudget, type RowKey, type SettledRow } from "../../billing/shard-close.js";
import type { LeafRow } from "../../billing/settlement-tree.js";
import { migrate } from "../migrations.js";
import { earningsShardOf, LEGACY_EARNINGS_SHARDS } from "../names.js";
import { EARNINGS_MIGRATIONS } from "./schema.js";

/** One page of a node's settled receipts: block `block` of its subtree, with every block root for the proofs. */
export interface LeafPage {
  node: SettlementNode;
  block: number;
  /** The node's block roots, 0x-hex, in order (one per BLOCK_LEAVES receipts). */
  blocks: string[];
  rows: LeafRow[];
}

type NodeRow = SettlementNode & { blocks: string; firsts: string };

/** Where a close gathers receipts (see Settlements' ShardLayout); closes from before it used 16 shards. */
const LEGACY_LAYOUT = { shards: LEGACY_EARNINGS_SHARDS, read: LEGACY_EARNINGS_SHARDS };

/**
 * The billable receipts of the nodes whose ids hash to this shard (earningsShardOf), kept until a settlement closes
 * their period. Volume: a close reads the period's rows once as a stream ordered by (node_id, leaf) and keeps one
 * node's block of leaves at a time (see billing/node-subtree.ts); a page of proofs reads BLOCK_LEAVES rows. What bounds
 * a close is the time to read and update its share (1 / the shard count) of the period's receipts in one transaction.
 */
export class EarningsShard extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** This shard's number, from its name (`earnings:<n>`); null for objects named otherwise (tests). */
  private readonly index: number | null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, EARNINGS_MIGRATIONS);
    const named = /^earnings:(\d+)$/.exec(ctx.id.name ?? "");
    this.index = named ? Number(named[1]) : null;
  }

  /**
   * Unsettled receipts (at most `limit`) of nodes whose shard under `shards` is another: left here by an earlier
   * shard count. A close first moves them to their node's shard (add there, then drop here), so each node's receipts
   * are in one shard when it is closed.
   */
  strays(shards: number, limit: number): Earning[] {
    const nodes = this.strayNodes(shards);
    if (nodes.length === 0) return [];
    return this.sql
      .exec<Earning & Record<string, SqlStorageValue>>(
        "SELECT request_id, node_id, receipt, leaf, prompt_tokens, completion_tokens, amount, created FROM earnings " +
          "WHERE settlement_id IS NULL AND node_id IN (SELECT value FROM json_each(?)) ORDER BY request_id LIMIT ?",
        JSON.stringify(nodes),
        limit,
      )
      .toArray();
  }

  /** Forgets unsettled receipts their node's shard has acknowledged (see strays); returns how many. */
  drop(requestIds: string[]): number {
    this.sql.exec(
      "DELETE FROM earnings WHERE settlement_id IS NULL AND request_id IN (SELECT value FROM json_each(?))",
      JSON.stringify(requestIds),
    );
    return this.sql.exec<{ n: number }>("SELECT changes() AS n").one().n;
  }

  private strayNodes(shards: number): string[] {
    if (this.index === null) return [];
    return this.sql
      .exec<{ node_id: string }>("SELECT DISTINCT node_id FROM earnings WHERE settlement_id IS NULL")
      .toArray()
      .map((r) => r.node_id)
      .filter((node) => earningsShardOf(node, shards) !== this.index);
  }

  /**
   * Stores new receipts (a request id already here is kept as it was) and returns how many were new. One statement for
   * the batch. Every close sweeps all unsettled receipts from before its end, so one that arrives after its period
   * closed is simply paid by the next close. (`late` was read by closes that did not sweep; deployed tables declare
   * it NOT NULL without a default, so it is written, as 0.)
   */
  add(earnings: Earning[], now: number): number {
    if (earnings.length === 0) return 0;
    this.sql.exec(
      `INSERT OR IGNORE INTO earnings (request_id, node_id, receipt, leaf, prompt_tokens, completion_tokens, amount, created, added, late)
       SELECT e.request_id, e.node_id, e.receipt, e.leaf, e.prompt_tokens, e.completion_tokens, e.amount, e.created, ?,
       0
       FROM (SELECT value ->> '$.request_id' AS request_id, value ->> '$.node_id' AS node_id, value ->> '$.receipt' AS receipt,
                    value ->> '$.leaf' AS leaf, value ->> '$.prompt_tokens' AS prompt_tokens,
                    value ->> '$.completion_tokens' AS completion_tokens, value ->> '$.amount' AS amount, value ->> '$.created' AS created
             FROM json_each(?)) e`,
      now,
      JSON.stringify(earnings),
    );
    return this.sql.exec<{ n: number }>("SELECT changes() AS n").one().n;
  }

  /**
   * Settles under `settlementId` the unsettled receipts created before `to`: the period's, late ones from before it,
   * and any from a gap between closed periods, so no receipt goes unpaid for good. They are taken in (node_id, leaf)
   * order while the close stays within its budget (see billing/shard-close.ts); the rest stay unsettled for the next
   * close. Returns each node's totals and subtree root, or null when the id was aborted (a close racing an abort must
   * not tag rows again). Idempotent: a second call returns the first call's result and settles nothing new. Refused
   * (an error) while the shard holds receipts of another shard's nodes under `layout.shards` (see strays): a node's
   * receipts must be closed in one shard. Every figure stays within its share of 2^53 - 1 among `layout.read` shards.
   */
  close(settlementId: string, from: number, to: number, layout = LEGACY_LAYOUT): SettlementNode[] | null {
    if (this.sql.exec("SELECT 1 FROM aborted WHERE settlement_id = ?", settlementId).toArray().length > 0) return null;
    const done = this.sql.exec("SELECT 1 FROM closes WHERE settlement_id = ?", settlementId).toArray().length > 0;
    if (done) return this.closedNodes(settlementId);
    if (this.strayNodes(layout.shards).length > 0)
      throw new Error(`earnings shard ${this.index} holds receipts of other shards' nodes; move them first`);
    const budget = shardBudget(layout.read);
    return this.ctx.storage.transactionSync(() => {
      const candidates = this.sql.exec<SettledRow & Record<string, SqlStorageValue>>(
        "SELECT node_id, leaf, prompt_tokens, completion_tokens, amount FROM earnings WHERE settlement_id IS NULL " +
          "AND created < ? ORDER BY node_id, leaf",
        to,
      );
      const closed = closeShard(candidates, budget);
      if (closed.last) this.tag(settlementId, to, closed.last, closed.taken, budget);
      if (closed.full)
        console.warn(
          "settlement close reached its budget; the rest is carried into the next close",
          settlementId,
          closed.taken,
        );
      if (closed.oversized > 0) console.error("receipts too large for any statement left unsettled", closed.oversized);
      for (const { node, subtree } of closed.nodes) {
        this.sql.exec(
          "INSERT INTO settled_nodes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          settlementId,
          node.node_id,
          node.receipts,
          node.prompt_tokens,
          node.completion_tokens,
          node.amount,
          node.root,
          JSON.stringify(subtree.blocks),
          JSON.stringify(subtree.firsts),
        );
      }
      this.sql.exec("INSERT INTO closes (settlement_id, from_ms, to_ms) VALUES (?, ?, ?)", settlementId, from, to);
      return closed.nodes.map((c) => c.node);
    });
  }

  /**
   * Undoes a close that will never finish: the receipts it tagged become unsettled again and its results go, and the
   * id is refused by close() from then on. Idempotent; returns how many receipts were released. Only for a settlement
   * that was never signed (Settlements.abort() makes sure).
   */
  abort(settlementId: string): number {
    return this.ctx.storage.transactionSync(() => {
      this.sql.exec("INSERT OR IGNORE INTO aborted (settlement_id) VALUES (?)", settlementId);
      this.sql.exec("UPDATE earnings SET settlement_id = NULL WHERE settlement_id = ?", settlementId);
      const released = this.sql.exec<{ n: number }>("SELECT changes() AS n").one().n;
      this.sql.exec("DELETE FROM settled_nodes WHERE settlement_id = ?", settlementId);
      this.sql.exec("DELETE FROM closes WHERE settlement_id = ?", settlementId);
      return released;
    });
  }

  /**
   * Tags exactly the rows closeShard() took: those it read up to `last`, less any that alone pass the budget (the
   * same test in SQL as fitsAlone()). A count that differs means the two disagree: the close fails rather than pay
   * rows it did not sum.
   */
  private tag(settlementId: string, to: number, last: RowKey, taken: number, budget: number): void {
    const fits = (column: string) => `typeof(${column}) = 'integer' AND ${column} BETWEEN 0 AND ${budget}`;
    this.sql.exec(
      `UPDATE earnings SET settlement_id = ? WHERE settlement_id IS NULL AND created < ? AND (node_id, leaf) <= (?, ?)
         AND ${fits("prompt_tokens")} AND ${fits("completion_tokens")} AND ${fits("amount")}`,
      settlementId,
      to,
      last.node_id,
      last.leaf,
    );
    const tagged = this.sql.exec<{ n: number }>("SELECT changes() AS n").one().n;
    if (tagged !== taken) throw new Error(`settlement ${settlementId}: tagged ${tagged} receipts, summed ${taken}`);
  }

  /** Page `block` of a node's receipts in a settlement (empty past the last); null when the node has none in it. */
  leaves(settlementId: string, nodeId: string, block: number): LeafPage | null {
    const row = this.sql
      .exec<NodeRow>("SELECT * FROM settled_nodes WHERE settlement_id = ? AND node_id = ?", settlementId, nodeId)
      .toArray()[0];
    if (!row) return null;
    const first = (JSON.parse(row.firsts) as string[])[block];
    const rows =
      first === undefined
        ? []
        : this.sql
            .exec<LeafRow & Record<string, SqlStorageValue>>(
              "SELECT receipt, leaf, amount FROM earnings WHERE settlement_id = ? AND node_id = ? AND leaf >= ? " +
                "ORDER BY leaf LIMIT ?",
              settlementId,
              nodeId,
              first,
              BLOCK_LEAVES,
            )
            .toArray();
    return { node: nodeOf(row), block, blocks: JSON.parse(row.blocks) as string[], rows };
  }

  private closedNodes(settlementId: string): SettlementNode[] {
    return this.sql
      .exec<NodeRow>("SELECT * FROM settled_nodes WHERE settlement_id = ? ORDER BY node_id", settlementId)
      .toArray()
      .map(nodeOf);
  }
}

/** Just the statement's fields of a stored node (SELECT * also brings the settlement id and subtree). */
function nodeOf(row: SettlementNode): SettlementNode {
  return {
    node_id: row.node_id,
    receipts: row.receipts,
    prompt_tokens: row.prompt_tokens,
    completion_tokens: row.completion_tokens,
    amount: row.amount,
    root: row.root,
  };
}

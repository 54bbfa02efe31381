import { DurableObject } from "cloudflare:workers";
import type { SettlementNode } from "@meshgate/schemas";
import type { Earning } from "../billing/records.js";
import { BLOCK_LEAVES } from "../billing/node-subtree.js";
import { closeNodes, type SettledRow } from "../billing/shard-close.js";
import type { LeafRow } from "../billing/settlement-tree.js";

/** One page of a node's settled receipts: block `block` of its subtree, with every block root for the proofs. */
export interface LeafPage {
  node: SettlementNode;
  block: number;
  /** The node's block roots, 0x-hex, in order (one per BLOCK_LEAVES receipts). */
  blocks: string[];
  rows: LeafRow[];
}

type NodeRow = SettlementNode & { blocks: string; firsts: string };

/**
 * The billable receipts of the nodes whose ids hash to this shard (earningsShardOf), kept until a settlement closes
 * their period. Volume: a close reads the period's rows once as a stream ordered by (node_id, leaf) and keeps one
 * node's block of leaves at a time (see billing/node-subtree.ts); a page of proofs reads BLOCK_LEAVES rows. What bounds
 * a close is the time to update and read one sixteenth of the period's receipts in one transaction.
 */
export class EarningsShard extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // `earnings.added` (when the shard stored a receipt) is written but read by nothing; deployed tables declare it
    // NOT NULL without a default, so it stays (dropping it would take a migration of every shard for no gain).
    this.sql.exec(`CREATE TABLE IF NOT EXISTS earnings (
      request_id TEXT PRIMARY KEY, node_id TEXT NOT NULL, receipt TEXT NOT NULL, leaf TEXT NOT NULL,
      prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, amount INTEGER NOT NULL, created INTEGER NOT NULL,
      added INTEGER NOT NULL, settlement_id TEXT, late INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS earnings_open ON earnings (settlement_id, created);
    CREATE INDEX IF NOT EXISTS earnings_settled ON earnings (settlement_id, node_id, leaf);
    CREATE TABLE IF NOT EXISTS closes (settlement_id TEXT PRIMARY KEY, from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS closes_from ON closes (from_ms);
    CREATE TABLE IF NOT EXISTS settled_nodes (
      settlement_id TEXT NOT NULL, node_id TEXT NOT NULL, receipts INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
      completion_tokens INTEGER NOT NULL, amount INTEGER NOT NULL, root TEXT NOT NULL, blocks TEXT NOT NULL, firsts TEXT NOT NULL,
      PRIMARY KEY (settlement_id, node_id)
    )`);
  }

  /**
   * Stores new receipts (a request id already here is kept as it was) and returns how many were new. One statement for
   * the batch. A receipt whose time falls in a period this shard already closed is marked late: the next close carries
   * it. Closed periods never overlap, so the one that could contain it is the latest to start at or before it.
   */
  add(earnings: Earning[], now: number): number {
    if (earnings.length === 0) return 0;
    this.sql.exec(
      `INSERT OR IGNORE INTO earnings (request_id, node_id, receipt, leaf, prompt_tokens, completion_tokens, amount, created, added, late)
       SELECT e.request_id, e.node_id, e.receipt, e.leaf, e.prompt_tokens, e.completion_tokens, e.amount, e.created, ?,
              COALESCE((SELECT c.to_ms > e.created FROM closes c WHERE c.from_ms <= e.created ORDER BY c.from_ms DESC LIMIT 1), 0)
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
   * Settles [from, to) under `settlementId`: every unsettled receipt in it, plus every late one from before it (so no
   * node loses pay), and returns each node's totals and subtree root. Idempotent: a second call returns the first
   * call's result and settles nothing new.
   */
  close(settlementId: string, from: number, to: number): SettlementNode[] {
    const done = this.sql.exec("SELECT 1 FROM closes WHERE settlement_id = ?", settlementId).toArray().length > 0;
    if (done) return this.closedNodes(settlementId);
    return this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "UPDATE earnings SET settlement_id = ? WHERE settlement_id IS NULL AND created < ? AND (created >= ? OR late = 1)",
        settlementId, to, from,
      );
      const rows = this.sql.exec<SettledRow & Record<string, SqlStorageValue>>(
        "SELECT node_id, leaf, prompt_tokens, completion_tokens, amount FROM earnings WHERE settlement_id = ? ORDER BY node_id, leaf",
        settlementId,
      );
      const nodes: SettlementNode[] = [];
      for (const { node, subtree } of closeNodes(rows)) {
        this.sql.exec(
          "INSERT INTO settled_nodes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          settlementId, node.node_id, node.receipts, node.prompt_tokens, node.completion_tokens, node.amount, node.root,
          JSON.stringify(subtree.blocks), JSON.stringify(subtree.firsts),
        );
        nodes.push(node);
      }
      this.sql.exec("INSERT INTO closes (settlement_id, from_ms, to_ms) VALUES (?, ?, ?)", settlementId, from, to);
      return nodes;
    });
  }

  /** Page `block` of a node's receipts in a settlement (empty past the last); null when the node has none in it. */
  leaves(settlementId: string, nodeId: string, block: number): LeafPage | null {
    const row = this.sql.exec<NodeRow>("SELECT * FROM settled_nodes WHERE settlement_id = ? AND node_id = ?", settlementId, nodeId).toArray()[0];
    if (!row) return null;
    const first = (JSON.parse(row.firsts) as string[])[block];
    const rows =
      first === undefined
        ? []
        : this.sql
            .exec<LeafRow & Record<string, SqlStorageValue>>(
              "SELECT receipt, leaf, amount FROM earnings WHERE settlement_id = ? AND node_id = ? AND leaf >= ? ORDER BY leaf LIMIT ?",
              settlementId, nodeId, first, BLOCK_LEAVES,
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
  return { node_id: row.node_id, receipts: row.receipts, prompt_tokens: row.prompt_tokens, completion_tokens: row.completion_tokens, amount: row.amount, root: row.root };
}

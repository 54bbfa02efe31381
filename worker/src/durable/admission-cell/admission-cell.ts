import { DurableObject } from "cloudflare:workers";
import { affordableAt, type AffordBound } from "../../billing/request-budget.js";
import { Batcher } from "../../lib/batcher.js";
import {
  addTerms,
  LeaseBook,
  LEASE_TTL_MS,
  modelSummary,
  NO_TERMS,
  summarizeCell,
  summaryTerms,
  type CellModelSummary,
  noteLoad,
  observeInTable,
  OutcomeMemory,
  pickNode,
  type Lease,
  type Outcome,
  type RouteNode,
  type RoutingControls,
} from "../../routing/index.js";
import { migrate } from "../migrations.js";
import { summaryToJson, type CellSummaryJson } from "../cell-directory/summary-json.js";
import { admissionCells, cellDirectory, nodeRegistry } from "../names.js";
import { CellListing, type CellTable } from "./cell-listing.js";
import { CELL_MIGRATIONS } from "./schema.js";
import { UsageWal, usageFlushMs, type WalEntry } from "./usage-wal.js";

/** A model's summary is computed at most this often (it walks the model's nodes); isolates allow for their grants. */
const SUMMARY_REUSE_MS = 50;
/**
 * The cell reports its whole summary to the directory this often while it admits requests: with a cell per 100
 * requests/s (100 at 10,000/s), the directory hears 50 reports a second besides its colos' reads (npm run load-model).
 */
export const DIRECTORY_REPORT_MS = 2_000;
/**
 * Outcomes go on to the registry (which keeps reputation across cells and restarts) in batches this often: the cell
 * itself learns from each at once; the registry, which hears from every cell, one batch a second from each.
 */
const OUTCOME_BATCH_MS = 1_000;

export interface AcquireRequest {
  /** This cell's number and how many there are: which of the registry's nodes it decides for. */
  cell: number;
  cells: number;
  model: string;
  controls: RoutingControls;
  /** Nodes already tried for this request. */
  exclude: string[];
  /** Node attempts already made for this model (0 for the first). */
  attempt: number;
  /** Leaves out nodes whose worst case the key's budget cannot cover; null: any node. */
  bound: AffordBound | null;
}

export type Granted =
  | { kind: "node"; lease: Lease; node: RouteNode; publicKey: string }
  /** No node of this cell serves the model / passes the controls / has a free slot. */
  | { kind: "unknown_model" | "no_eligible" | "saturated" };

/** Every reply carries the cell's summary for the model as it is now: the asking isolate's view of it, refreshed. */
export type AcquireReply = Granted & { summary: CellSummaryJson };

/** A lease given back, with what its attempt taught (null: nothing) and the answer's usage row, if it had one. */
export interface Released {
  leaseId: string;
  outcome: Outcome | null;
  usage?: WalEntry | null;
}

/**
 * One admission cell: the one place that grants slots at its nodes, so it knows their in-flight counts exactly
 * however many isolates ask. Picks with the router's own pickNode over its nodes' table, loaded with its leases.
 */
export class AdmissionCell extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly book: LeaseBook;
  private readonly listing: CellListing;
  /** Each model's summary as last computed (see SUMMARY_REUSE_MS). */
  private readonly summaries = new Map<string, CellModelSummary & { at: number }>();
  private reportedAt = -Infinity;
  private readonly unwritten = new OutcomeMemory();
  private readonly outcomes: Batcher<Outcome>;
  private readonly wal: UsageWal;
  private readonly flushMs: number;
  /** The flush alarm as this instance last set it (null: not known), so most releases skip reading it. */
  private flushAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, CELL_MIGRATIONS);
    this.flushMs = usageFlushMs(env.USAGE_FLUSH_MS);
    this.wal = new UsageWal(this.sql, env, ctx.id.name ?? ctx.id.toString());
    // Rows written before a restart are flushed one interval after it (sooner than an alarm set under a longer one).
    if (this.wal.pending() > 0) void ctx.blockConcurrencyWhile(() => this.armFlush(Date.now()));
    this.book = new LeaseBook(
      this.sql
        .exec<{ id: string; node_id: string; expires_at: number }>("SELECT id, node_id, expires_at FROM leases")
        .toArray()
        .map((r) => ({ id: r.id, nodeId: r.node_id, expiresAt: r.expires_at })),
    );
    const unwritten = this.unwritten;
    this.listing = new CellListing(env, (nodeId) => this.book.held(nodeId), unwritten);
    this.outcomes = new Batcher<Outcome>({
      delayMs: OUTCOME_BATCH_MS,
      maxItems: 500,
      async write(outcomes, env) {
        await nodeRegistry(env).recordOutcomes(outcomes, Date.now());
        unwritten.written(outcomes, Date.now());
      },
    });
  }

  /** Picks a node with a free slot for the request and takes the slot (a lease), or says why none. */
  async acquire(req: AcquireRequest, now: number): Promise<AcquireReply> {
    const wall = Date.now();
    const { cell, cells } = this.identity(req);
    const view = await this.listing.tableFor(cell, cells, wall);
    this.expire(now);
    const granted = this.grant(view, req, now);
    this.reportToDirectory(view, wall);
    const reply: AcquireReply = { ...granted, summary: this.summaryOf(view, req.model, wall) };
    return reply;
  }

  private grant(view: CellTable, req: AcquireRequest, now: number): Granted {
    const { bound } = req;
    const picked = pickNode(view.table, {
      model: req.model,
      controls: req.controls,
      now,
      random: Math.random,
      load: (node) => this.book.held(node.id),
      exclude: new Set(req.exclude),
      attempt: req.attempt,
      allow: bound
        ? (node) =>
            affordableAt(bound, {
              price: node.models.get(req.model) ?? null,
              contextLength: node.contextLengths.get(req.model) ?? null,
            })
        : undefined,
    });
    if (picked.kind !== "node") return { kind: picked.kind };
    const { node } = picked;
    // The router never picks a full node; this is the line no bug in it may cross.
    if (this.book.held(node.id) >= node.declaredCapacity) return { kind: "saturated" };
    const lease: Lease = { id: crypto.randomUUID(), nodeId: node.id, expiresAt: now + LEASE_TTL_MS };
    this.book.grant(lease);
    this.sql.exec(
      "INSERT INTO leases (id, node_id, expires_at) VALUES (?, ?, ?)",
      lease.id,
      lease.nodeId,
      lease.expiresAt,
    );
    noteLoad(view.table, node.id, this.book.held(node.id), now);
    const kept = this.summaries.get(req.model);
    if (kept) kept.free = Math.max(0, kept.free - 1);
    return { kind: "node", lease, node, publicKey: view.publicKeys.get(node.id) ?? "" };
  }

  /**
   * The model's figures now, recomputed at most every SUMMARY_REUSE_MS (a grant takes one slot off the figures kept
   * meanwhile). A model none of the cell's nodes serves is listed in nothing, so made-up names are kept nowhere.
   */
  private summaryOf(view: CellTable, model: string, wall: number): CellSummaryJson {
    const pool = view.table.pools.get(model);
    if (!pool) {
      this.summaries.delete(model);
      return { cell: view.cell, at: wall, models: {} };
    }
    let summary = this.summaries.get(model);
    if (!summary || wall - summary.at >= SUMMARY_REUSE_MS) {
      let sum = NO_TERMS;
      for (const node of pool.nodes) sum = addTerms(sum, summaryTerms(pool, node, this.book.held(node.id), wall));
      summary = { ...modelSummary(sum, pool.nodes.length), at: wall };
      this.summaries.set(model, summary);
    }
    const { at, ...figures } = summary;
    return { cell: view.cell, at, models: { [model]: figures } };
  }

  /** About once a second while requests come: the whole summary to the directory isolates read. */
  private reportToDirectory(view: CellTable, wall: number): void {
    if (wall - this.reportedAt < DIRECTORY_REPORT_MS) return;
    this.reportedAt = wall;
    const summary = summaryToJson(summarizeCell(view.cell, view.table, (node) => this.book.held(node.id), wall));
    this.ctx.waitUntil(
      cellDirectory(this.env)
        .report(summary)
        .catch((err: unknown) => console.error("reporting to the cell directory failed", String(err))),
    );
  }

  /**
   * Gives leases back, each with what its attempt taught (null: nothing, e.g. passed over before it was asked), and
   * writes their usage rows ahead (usage-wal.ts): when this returns, they are on disk and will reach the accounts,
   * the earnings shards and the roll-up. Rows of limited keys go to their accounts at once, in the background.
   */
  async release(released: Released[], now: number): Promise<void> {
    const rows = released.flatMap((r) => (r.usage ? [r.usage] : []));
    const prompt = rows.length > 0 ? this.wal.write(rows) : [];
    this.giveBack(released, now);
    if (rows.length === 0) return;
    if (prompt.length > 0)
      this.ctx.waitUntil(
        this.wal
          .pushPrompt(prompt, Date.now())
          .catch((err: unknown) => console.error("prompt usage push failed; the flush retries it", String(err))),
      );
    await this.armFlush(Date.now());
  }

  /** Flushes the usage write-ahead, then sets the next flush while rows remain (the alarm survives restarts). */
  override async alarm(): Promise<void> {
    this.flushAt = null;
    const next = await this.wal.flush(Date.now(), this.flushMs);
    if (next !== null) await this.setFlush(Date.now() + next);
  }

  /** A flush within one interval, unless one is due sooner. */
  private async armFlush(now: number): Promise<void> {
    const at = now + this.flushMs;
    if (this.flushAt !== null && this.flushAt <= at) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.setFlush(at);
    else this.flushAt = current;
  }

  private async setFlush(at: number): Promise<void> {
    this.flushAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  private giveBack(released: readonly Released[], now: number): void {
    for (const { leaseId, outcome } of released) {
      // Its other requests, exactly: what a refusal (429) at this count says about the node's real capacity.
      if (outcome)
        this.learn({ ...outcome, inFlight: outcome.inFlight ?? Math.max(0, this.book.held(outcome.nodeId) - 1) });
      const lease = this.book.release(leaseId);
      if (!lease) continue;
      this.sql.exec("DELETE FROM leases WHERE id = ?", leaseId);
      this.noteHeld(lease.nodeId, now);
    }
  }

  /** Outcomes known only after their lease was given back (a timeout judged once its request ended). */
  observe(outcomes: Outcome[]): void {
    for (const outcome of outcomes) this.learn(outcome);
  }

  /** Keeps leases whose answers are still streaming; returns the ids no longer held (lapsed or never granted). */
  renew(leaseIds: string[], now: number): string[] {
    const lost: string[] = [];
    const expiresAt = now + LEASE_TTL_MS;
    for (const id of leaseIds) {
      if (this.book.renew(id, expiresAt)) this.sql.exec("UPDATE leases SET expires_at = ? WHERE id = ?", expiresAt, id);
      else lost.push(id);
    }
    return lost;
  }

  /**
   * Which share of the nodes this object decides for: from its own name (`cell:<k>`) and its own deployment's
   * ADMISSION_CELLS, not the caller's word, so an isolate configured differently (mid-deploy) cannot make two cells
   * grant one node's slots; it only asks a cell that has nothing for it. Objects named otherwise (tests) take the
   * request's.
   */
  private identity(req: AcquireRequest): { cell: number; cells: number } {
    const named = /^cell:(\d+)$/.exec(this.ctx.id.name ?? "");
    if (!named) return { cell: req.cell, cells: req.cells };
    return { cell: Number(named[1]), cells: admissionCells(this.env) };
  }

  /** The registry changed a node of this cell's listing: the next grant reads it again first. */
  invalidate(): void {
    this.listing.invalidate();
  }

  /** Slots held now, per node, as stored (what a restart would count). */
  held(): Record<string, number> {
    const held: Record<string, number> = {};
    for (const r of this.sql.exec<{ node_id: string; n: number }>(
      "SELECT node_id, COUNT(*) AS n FROM leases GROUP BY node_id",
    ))
      held[r.node_id] = r.n;
    return held;
  }

  private learn(outcome: Outcome): void {
    const table = this.listing.current;
    if (table) observeInTable(table.table, outcome);
    this.unwritten.remember(outcome);
    this.outcomes.add(outcome, this.env, this.ctx);
  }

  private expire(now: number): void {
    for (const lease of this.book.expire(now)) {
      this.sql.exec("DELETE FROM leases WHERE id = ?", lease.id);
      this.noteHeld(lease.nodeId, now);
    }
  }

  /** A node's lease count changed: its weight in the table follows at once. */
  private noteHeld(nodeId: string, now: number): void {
    const table = this.listing.current;
    if (table) noteLoad(table.table, nodeId, this.book.held(nodeId), now);
  }
}

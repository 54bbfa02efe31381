// Meshgate with admission cells: the nodes are split over `cells` exact deciders (admission-cell.ts, a Durable Object
// each in production), and every gateway isolate keeps its own view of the cells (cell-choice.ts) to choose which to
// ask. What an isolate knows of a cell comes only from a directory snapshot (cells push their summaries every second;
// an isolate fetches the directory when its copy is `snapshotTtlMs` old) or from that cell's replies to its own
// acquires, which arrive a round trip after the cell made them. Every acquire costs the request one round trip; a
// cell that is full sends the isolate to another (up to MAX_CELL_TRIES). Releases, with the outcome, reach the cell
// `releaseDelayMs` after the attempt ends; the slot stays leased until then.
import {
  CellView,
  cellOf,
  chooseCell,
  MAX_CELL_TRIES,
  type CellSummary,
  type Outcome,
  type RouteNode,
  type RoutingTable,
} from "@meshgate/worker/routing";
import { AdmissionCell, type PickCounts } from "./admission-cell.js";
import { MODEL, type ChooseQuery, type Choice, type Deployment, type Policy, type World } from "./policy.js";

export type CellsCounters = PickCounts & {
  /** First attempts of requests, and cells asked over all attempts: their ratio is cell tries per request. */
  requests: number;
  cellTries: number;
  /** Cells that answered full, and attempts that found every cell tried full. */
  fullCells: number;
  noCapacity: number;
};

interface Isolate {
  readonly view: CellView;
  /** When its directory snapshot was fetched; -Infinity before the first. */
  fetchedAt: number;
  /** Cells' replies on their way back to the isolate: applied once they have arrived, before it next decides. */
  replies: { at: number; summary: CellSummary }[];
}

/**
 * Applies the replies that have arrived by `now`, in the order sent. Replies arrive in that order but for one after
 * two round trips (a full cell first), which a later one-trip reply may overtake: that one waits for it, ≤ one trip.
 */
function hearReplies(isolate: Isolate, now: number): void {
  const { replies } = isolate;
  let due = 0;
  for (; due < replies.length; due++) {
    const reply = replies[due];
    if (!reply || reply.at > now) break;
    isolate.view.apply(reply.summary);
  }
  if (due > 0) replies.splice(0, due);
}

function noCounts(): CellsCounters {
  return {
    node: 0,
    explored: 0,
    unknown_model: 0,
    no_eligible: 0,
    saturated: 0,
    scans: 0,
    requests: 0,
    cellTries: 0,
    fullCells: 0,
    noCapacity: 0,
  };
}

export function cellsPolicy(world: World, d: Deployment): Policy {
  return new CellsPolicy(world, d);
}

class CellsPolicy implements Policy {
  readonly name = "meshgate";
  readonly usesRouter = true;
  readonly counters = noCounts();
  private readonly cells: AdmissionCell[];
  /** Every node's owner, as every isolate and object computes it: fixed for the run, since `cells` is. */
  private readonly owner: Int32Array;
  /** The latest summary each cell pushed: what a snapshot fetched now holds. */
  private readonly directory: (CellSummary | undefined)[];
  private readonly isolates: Isolate[];

  constructor(
    private readonly world: World,
    private readonly d: Deployment,
  ) {
    this.cells = Array.from({ length: d.cells }, (_, c) => new AdmissionCell(c, world.random, this.counters));
    this.owner = Int32Array.from(world.mesh, (node) => cellOf(node.id, d.cells));
    this.directory = new Array<CellSummary | undefined>(d.cells);
    this.isolates = Array.from({ length: d.isolates }, () => ({
      view: new CellView(d.cells),
      fetchedAt: -Infinity,
      replies: [],
    }));
  }

  choose(q: ChooseQuery): Choice | null {
    const isolate = this.isolates[q.isolate % this.isolates.length];
    if (!isolate) throw new Error(`no isolate ${q.isolate}`);
    if (q.attempt === 0) this.counters.requests++;
    this.hear(isolate, q.now);
    return this.acquire(isolate, q);
  }

  onListing(listed: readonly RouteNode[], now: number): void {
    const byCell = this.cells.map((): RouteNode[] => []);
    for (const route of listed) byCell[this.ownerOf(this.world.indexOf(route.id))?.cell ?? 0]?.push(route);
    for (const cell of this.cells) {
      cell.rebuild(byCell[cell.cell] ?? [], now);
      this.directory[cell.cell] = cell.summary(now);
    }
  }

  tableOf(route: RouteNode): RoutingTable | null {
    return this.ownerOf(this.world.indexOf(route.id))?.table ?? null;
  }

  onAttemptEnd(outcome: Outcome, index: number, now: number): void {
    const cell = this.ownerOf(index);
    const at = now + this.d.releaseDelayMs;
    if (cell) this.world.schedule(at, () => cell.release(outcome, at));
  }

  private ownerOf(index: number): AdmissionCell | undefined {
    return this.cells[this.owner[index] ?? -1];
  }

  /** What the isolate has heard by `now`: a new directory snapshot when its copy is too old, and replies arrived. */
  private hear(isolate: Isolate, now: number): void {
    if (now - isolate.fetchedAt >= this.d.snapshotTtlMs) {
      isolate.fetchedAt = now;
      for (const summary of this.directory) if (summary) isolate.view.apply(summary);
    }
    hearReplies(isolate, now);
  }

  /** Tries cells until one grants a lease; every try is a round trip, the last one's reply arrives with the lease. */
  private acquire(isolate: Isolate, q: ChooseQuery): Choice | null {
    const { counters, d } = this;
    const tried = new Set<number>();
    for (let t = 1; t <= MAX_CELL_TRIES; t++) {
      const c = chooseCell(isolate.view, { model: MODEL, exclude: tried, now: q.now, random: this.world.random });
      const cell = c === null ? undefined : this.cells[c];
      if (c === null || !cell) break;
      counters.cellTries++;
      const node = cell.pick(q.exclude, q.attempt, q.now);
      // What the cell does once it has decided (count the lease, answer with its summary) is not the decision.
      this.world.untimed(() => {
        if (node) cell.grant(node, q.now);
        isolate.replies.push({ at: q.now + t * d.cellRttMs, summary: cell.summary(q.now) });
      });
      if (node) {
        // The isolate knows its own lease at once; the cell's reply, with everyone's, follows a round trip later.
        isolate.view.noteGranted(c, MODEL);
        return { id: node.id, waitMs: t * d.cellRttMs };
      }
      counters.fullCells++;
      tried.add(c);
    }
    counters.noCapacity++;
    return null;
  }
}

// A gateway isolate's view of the admission cells (cell-summary.ts) and its choice of the cell to ask for a slot. The
// view mixes directory snapshots (up to a few seconds old) with the summaries carried by the cells' own replies
// (fresh); the newer word on a cell wins. The choice is power of two choices: two cells drawn by their free slots,
// the one likely to answer faster wins. What the view says counts as much as it is fresh: a stale figure is blended
// toward the average cell, and a comparison of stale figures is left to chance, so isolates reading the same old
// snapshot spread out rather than herd onto the cell that looked best then. Pure: time and randomness are arguments.
import type { CellModelSummary, CellSummary } from "./cell-summary.js";

/**
 * Age at which a cell's figures count for 1/e of what they say (the rest is the average cell's): a cell admitting
 * hundreds of requests a second changes its fast nodes' room within about a second.
 */
export const VIEW_FRESH_MS = 1_000;
/**
 * Cells asked for one attempt before the request fails as no capacity: each full cell costs a round trip, and when
 * four cells drawn by their free slots are full the mesh is, near enough.
 */
export const MAX_CELL_TRIES = 4;
/** A cell whose nodes with room are all unproven (latency unknown) costs this many times the average cell. */
export const UNKNOWN_TTFT_FACTOR = 10;

/** One model's figures per cell, as last heard (NaN latency: none known; `at` −∞: never heard). */
interface ModelFigures {
  free: Float64Array;
  nodes: Float64Array;
  ttftMs: Float64Array;
  at: Float64Array;
}

/** A cell's figures as the choice weighs them, per cell; reused from one choice to the next (no allocation). */
export interface CellEstimates {
  free: Float64Array;
  cost: Float64Array;
  fresh: Float64Array;
}

export class CellView {
  /** When each cell's newest summary was made; −∞ until heard from. */
  private readonly heardAt: Float64Array;
  private readonly figures = new Map<string, ModelFigures>();
  private readonly scratch: CellEstimates;

  constructor(readonly cells: number) {
    if (!Number.isInteger(cells) || cells < 1) throw new RangeError(`cells must be a positive integer, not ${cells}`);
    this.heardAt = new Float64Array(cells).fill(-Infinity);
    this.scratch = { free: new Float64Array(cells), cost: new Float64Array(cells), fresh: new Float64Array(cells) };
  }

  /** A cell's summary, from a snapshot or a reply: kept unless the view already holds a newer word on that cell. */
  apply(summary: CellSummary): void {
    const c = summary.cell;
    if (!(c >= 0 && c < this.cells) || summary.at < (this.heardAt[c] ?? Infinity)) return;
    this.heardAt[c] = summary.at;
    for (const [model, s] of summary.models) {
      const f = this.figuresOf(model);
      f.free[c] = s.free;
      f.nodes[c] = s.nodes;
      f.ttftMs[c] = s.ttftMs ?? Number.NaN;
      f.at[c] = summary.at;
    }
  }

  /** A lease this isolate was just granted: one slot fewer there until the cell's next word says otherwise. */
  noteGranted(cell: number, model: string): void {
    const f = this.figures.get(model);
    if (f && cell >= 0 && cell < this.cells) f.free[cell] = Math.max(0, (f.free[cell] ?? 0) - 1);
  }

  /**
   * What the view holds on the cell for the model, and when the cell said it; null if it never heard from the cell.
   * A cell whose newest summary does not list the model has nothing free for it.
   */
  observed(cell: number, model: string): { summary: CellModelSummary; at: number } | null {
    const at = this.heardAt[cell] ?? -Infinity;
    if (at === -Infinity) return null;
    const f = this.figures.get(model);
    if (!f || f.at[cell] !== at) return { summary: { free: 0, ttftMs: null, nodes: 0 }, at };
    const ttft = f.ttftMs[cell] ?? Number.NaN;
    const nodes = f.nodes[cell] ?? 0;
    return { summary: { free: f.free[cell] ?? 0, ttftMs: Number.isNaN(ttft) ? null : ttft, nodes }, at };
  }

  /**
   * Every cell's figures for the model at `now`, each blended toward the average cell by its age (never heard: the
   * average itself; nothing heard at all: every cell alike). The arrays are the view's own, overwritten next call.
   */
  estimates(model: string, now: number): CellEstimates {
    const f = this.figures.get(model);
    const { free, cost, fresh } = this.scratch;
    let freeSum = 0;
    let known = 0;
    let ttftSum = 0;
    let timed = 0;
    for (let c = 0; c < this.cells; c++) {
      const at = this.heardAt[c] ?? -Infinity;
      if (at === -Infinity) {
        fresh[c] = 0;
        continue;
      }
      const listed = f !== undefined && f.at[c] === at;
      free[c] = listed ? (f.free[c] ?? 0) : 0;
      cost[c] = listed ? (f.ttftMs[c] ?? Number.NaN) : Number.NaN;
      fresh[c] = Math.exp(-Math.max(0, now - at) / VIEW_FRESH_MS);
      known++;
      freeSum += free[c] ?? 0;
      if (!Number.isNaN(cost[c] ?? Number.NaN)) {
        timed++;
        ttftSum += cost[c] ?? 0;
      }
    }
    const meanFree = known > 0 ? freeSum / known : 1;
    const meanCost = timed > 0 ? ttftSum / timed : 1;
    for (let c = 0; c < this.cells; c++) {
      const w = fresh[c] ?? 0;
      const said = w > 0 ? (cost[c] ?? Number.NaN) : meanCost;
      free[c] = w > 0 ? w * (free[c] ?? 0) + (1 - w) * meanFree : meanFree;
      cost[c] = w * (Number.isNaN(said) ? meanCost * UNKNOWN_TTFT_FACTOR : said) + (1 - w) * meanCost;
    }
    return this.scratch;
  }

  private figuresOf(model: string): ModelFigures {
    let f = this.figures.get(model);
    if (!f) {
      const at = new Float64Array(this.cells).fill(-Infinity);
      const nodes = new Float64Array(this.cells);
      f = { free: new Float64Array(this.cells), nodes, ttftMs: new Float64Array(this.cells).fill(Number.NaN), at };
      this.figures.set(model, f);
    }
    return f;
  }
}

export interface CellChoiceQuery {
  model: string;
  /** Cells already tried for this attempt (they answered full). */
  exclude: ReadonlySet<number>;
  now: number;
  random: () => number;
}

/** A cell drawn by free slots (uniformly when no candidate has any), skipping `skip` and excluded cells; -1: none. */
function drawByFree(e: CellEstimates, q: CellChoiceQuery, skip: number): number {
  // Nearly every choice excludes nothing: spare it a set lookup per cell.
  const excluded =
    q.exclude.size > 0 ? (c: number): boolean => c === skip || q.exclude.has(c) : (c: number) => c === skip;
  let total = 0;
  let count = 0;
  for (let c = 0; c < e.free.length; c++) {
    if (excluded(c)) continue;
    total += e.free[c] ?? 0;
    count++;
  }
  if (count === 0) return -1;
  const byFree = total > 0;
  let target = q.random() * (byFree ? total : count);
  let last = -1;
  for (let c = 0; c < e.free.length; c++) {
    if (excluded(c)) continue;
    const weight = byFree ? (e.free[c] ?? 0) : 1;
    if (weight <= 0) continue;
    last = c;
    target -= weight;
    if (target < 0) return c;
  }
  return last;
}

/**
 * The cell to ask for a slot for the model, or null when every cell is excluded. The cheaper of the two drawn wins
 * with a chance equal to the fresher one's freshness; otherwise the first drawn does (the comparison is a guess).
 */
export function chooseCell(view: CellView, q: CellChoiceQuery): number | null {
  const e = view.estimates(q.model, q.now);
  const a = drawByFree(e, q, -1);
  if (a < 0) return null;
  const b = drawByFree(e, q, a);
  if (b < 0) return a;
  const fresh = Math.max(e.fresh[a] ?? 0, e.fresh[b] ?? 0);
  const cheaper = (e.cost[b] ?? Infinity) < (e.cost[a] ?? Infinity) ? b : a;
  return q.random() < fresh ? cheaper : a;
}

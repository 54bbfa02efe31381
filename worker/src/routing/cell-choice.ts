// A gateway isolate's view of the admission cells (cell-summary.ts) and its choice of the cell to ask for a slot. The
// view mixes directory snapshots (up to a few seconds old) with the summaries carried by the cells' own replies
// (fresh); the newer word on a cell wins. The choice is power of two choices: two cells drawn by their free slots,
// the one likely to answer faster wins. What the view says counts in proportion to how fresh it is: a stale figure is
// blended toward the average cell, so isolates reading the same old snapshot spread out rather than herd onto the
// cell that looked best then. Pure: time and randomness come in as arguments.
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

interface CellEntry {
  summary: CellSummary;
  /** Leases this isolate was granted there since: slots the summary still counts as free. */
  granted: Map<string, number> | null;
}

const NOTHING_LISTED: CellModelSummary = { free: 0, ttftMs: null, nodes: 0 };

export class CellView {
  private readonly entries: (CellEntry | undefined)[];

  constructor(readonly cells: number) {
    if (!Number.isInteger(cells) || cells < 1) throw new RangeError(`cells must be a positive integer, not ${cells}`);
    this.entries = new Array<CellEntry | undefined>(cells);
  }

  /** A cell's summary, from a snapshot or a reply: kept unless the view already holds a newer word on that cell. */
  apply(summary: CellSummary): void {
    if (summary.cell < 0 || summary.cell >= this.cells) return;
    const held = this.entries[summary.cell];
    if (held && held.summary.at > summary.at) return;
    // Summaries are shared (one snapshot feeds many views) and never changed: the view keeps its own count beside.
    this.entries[summary.cell] = { summary, granted: null };
  }

  /** A lease this isolate was just granted: one slot fewer there until the cell's next word says otherwise. */
  noteGranted(cell: number, model: string): void {
    const entry = this.entries[cell];
    if (!entry) return;
    entry.granted ??= new Map();
    entry.granted.set(model, (entry.granted.get(model) ?? 0) + 1);
  }

  /**
   * What the view holds on the cell for the model (less the leases granted since), and when the cell said it; null
   * if it never heard from the cell. A cell that lists no node for the model says so: nothing free.
   */
  observed(cell: number, model: string): { summary: CellModelSummary; at: number } | null {
    const entry = this.entries[cell];
    if (!entry) return null;
    const said = entry.summary.models.get(model) ?? NOTHING_LISTED;
    const granted = entry.granted?.get(model) ?? 0;
    const summary = granted > 0 ? { ...said, free: Math.max(0, said.free - granted) } : said;
    return { summary, at: entry.summary.at };
  }
}

export interface CellChoiceQuery {
  model: string;
  /** Cells already tried for this attempt (they answered full). */
  exclude: ReadonlySet<number>;
  now: number;
  random: () => number;
}

/** A cell's figures as the choice weighs them: what it said, blended toward the average cell as it ages. */
interface Estimate {
  cell: number;
  free: number;
  cost: number;
}

function estimates(view: CellView, q: CellChoiceQuery): Estimate[] {
  let freeSum = 0;
  let ttftSum = 0;
  let known = 0;
  let timed = 0;
  for (let cell = 0; cell < view.cells; cell++) {
    const seen = view.observed(cell, q.model);
    if (!seen) continue;
    known++;
    freeSum += seen.summary.free;
    if (seen.summary.ttftMs !== null) {
      timed++;
      ttftSum += seen.summary.ttftMs;
    }
  }
  // With nothing heard yet every cell looks alike: a uniform draw.
  const meanFree = known > 0 ? freeSum / known : 1;
  const meanCost = timed > 0 ? ttftSum / timed : 1;
  const out: Estimate[] = [];
  for (let cell = 0; cell < view.cells; cell++) {
    if (q.exclude.has(cell)) continue;
    const seen = view.observed(cell, q.model);
    const fresh = seen ? Math.exp(-Math.max(0, q.now - seen.at) / VIEW_FRESH_MS) : 0;
    const free = seen?.summary.free ?? meanFree;
    const cost = seen?.summary.ttftMs ?? meanCost * UNKNOWN_TTFT_FACTOR;
    out.push({ cell, free: fresh * free + (1 - fresh) * meanFree, cost: fresh * cost + (1 - fresh) * meanCost });
  }
  return out;
}

/** An index into `options` drawn by free slots (uniformly when none has any), skipping `skip`; -1 when none left. */
function drawByFree(options: readonly Estimate[], skip: number, random: () => number): number {
  let total = 0;
  let count = 0;
  for (const [i, o] of options.entries()) {
    if (i === skip) continue;
    total += o.free;
    count++;
  }
  if (count === 0) return -1;
  let target = total > 0 ? random() * total : Math.floor(random() * count);
  let last = -1;
  for (const [i, o] of options.entries()) {
    if (i === skip || (total > 0 && o.free <= 0)) continue;
    last = i;
    target -= total > 0 ? o.free : 1;
    if (target < 0) return i;
  }
  return last;
}

/** The cell to ask for a slot for the model, or null when every cell is excluded. */
export function chooseCell(view: CellView, q: CellChoiceQuery): number | null {
  const options = estimates(view, q);
  const first = drawByFree(options, -1, q.random);
  const a = options[first];
  if (!a) return null;
  const b = options[drawByFree(options, first, q.random)];
  return b && b.cost < a.cost ? b.cell : a.cell;
}

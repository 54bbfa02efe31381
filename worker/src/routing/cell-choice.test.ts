import { describe, expect, it } from "vitest";
import { CellView, chooseCell, MAX_CELL_TRIES, VIEW_FRESH_MS } from "./cell-choice.js";
import type { CellModelSummary, CellSummary } from "./cell-summary.js";
import { seededRandom } from "./seeded-random.js";

const M = "m";
const NONE: ReadonlySet<number> = new Set();

function summary(cell: number, at: number, free: number, ttftMs: number | null, model = M): CellSummary {
  const figures: CellModelSummary = { free, ttftMs, nodes: 10 };
  return { cell, models: new Map([[model, figures]]), at };
}

/** How often each cell is chosen over `n` choices at `now`. */
function shares(view: CellView, now: number, n = 20_000, exclude = NONE): number[] {
  const random = seededRandom(11);
  const counts = new Array<number>(view.cells).fill(0);
  for (let i = 0; i < n; i++) {
    const c = chooseCell(view, { model: M, exclude, now, random });
    if (c !== null) counts[c] = (counts[c] ?? 0) + 1;
  }
  return counts.map((x) => x / n);
}

describe("CellView", () => {
  it("keeps the newer word on a cell, whichever arrives first", () => {
    const view = new CellView(2);
    view.apply(summary(0, 1000, 5, 100));
    view.apply(summary(0, 900, 50, 10));
    expect(view.observed(0, M)).toEqual({ summary: { free: 5, ttftMs: 100, nodes: 10 }, at: 1000 });
    view.apply(summary(0, 1100, 7, 90));
    expect(view.observed(0, M)?.summary.free).toBe(7);
    expect(view.observed(1, M)).toBeNull();
  });

  it("counts its own leases against the last word until the cell speaks again", () => {
    const view = new CellView(1);
    const said = summary(0, 1000, 2, 100);
    view.apply(said);
    view.noteGranted(0, M);
    expect(view.observed(0, M)?.summary.free).toBe(1);
    view.noteGranted(0, M);
    view.noteGranted(0, M);
    expect(view.observed(0, M)?.summary.free).toBe(0);
    // The summary itself is shared with other views (a snapshot) and stays as the cell said it.
    expect(said.models.get(M)?.free).toBe(2);
    view.apply(summary(0, 1001, 6, 100));
    expect(view.observed(0, M)?.summary.free).toBe(6);
  });

  it("reads a cell that lists no node for the model as having nothing free, and ignores cells out of range", () => {
    const view = new CellView(2);
    view.apply(summary(1, 10, 9, 100, "other"));
    view.apply(summary(5, 10, 9, 100));
    expect(view.observed(1, M)?.summary).toEqual({ free: 0, ttftMs: null, nodes: 0 });
    expect(() => new CellView(0)).toThrow(RangeError);
  });
});

describe("chooseCell", () => {
  it("chooses uniformly among cells it never heard from", () => {
    const s = shares(new CellView(4), 0);
    for (const x of s) expect(x).toBeGreaterThan(0.22);
  });

  it("never chooses a cell it freshly knows to be full, nor an excluded one; null once all are excluded", () => {
    const view = new CellView(3);
    view.apply(summary(0, 1000, 0, null));
    view.apply(summary(1, 1000, 10, 100));
    view.apply(summary(2, 1000, 10, 100));
    const s = shares(view, 1000, 5000, new Set([2]));
    expect(s).toEqual([0, 1, 0]);
    const random = seededRandom(3);
    expect(chooseCell(view, { model: M, exclude: new Set([0, 1, 2]), now: 1000, random })).toBeNull();
  });

  it("prefers, among fresh cells, the faster and the roomier", () => {
    const view = new CellView(3);
    view.apply(summary(0, 1000, 100, 100));
    view.apply(summary(1, 1000, 100, 200));
    view.apply(summary(2, 1000, 10, 100));
    const [fast, slow, small] = shares(view, 1000);
    // Two distinct draws by free slots, the faster wins: the slow cell loses to either other, so never wins.
    expect(slow).toBe(0);
    expect(fast).toBeGreaterThan(0.8);
    expect(small).toBeGreaterThan(0.03);
    expect(small).toBeLessThan(fast ?? 0);
  });

  it("spreads by the average cell once what it heard is stale, rather than herding on the old best", () => {
    const view = new CellView(2);
    view.apply(summary(0, 0, 100, 100));
    view.apply(summary(1, 0, 0, null));
    expect(shares(view, 0)).toEqual([1, 0]);
    const stale = shares(view, 10 * VIEW_FRESH_MS);
    expect(stale[1]).toBeGreaterThan(0.3);
  });

  it("ranks a cell whose free nodes are all unproven behind cells of known latency", () => {
    const view = new CellView(2);
    view.apply(summary(0, 0, 10, null));
    view.apply(summary(1, 0, 10, 500));
    const [unknown] = shares(view, 0);
    // Always drawn against the other cell (two distinct draws), and always costlier: never chosen.
    expect(unknown).toBe(0);
  });

  it("tries every cell once when told each in turn is full", () => {
    const view = new CellView(MAX_CELL_TRIES);
    const random = seededRandom(5);
    const tried = new Set<number>();
    for (let i = 0; i < MAX_CELL_TRIES; i++) {
      const c = chooseCell(view, { model: M, exclude: tried, now: 0, random });
      expect(c).not.toBeNull();
      expect(tried.has(c ?? -1)).toBe(false);
      tried.add(c ?? -1);
    }
    expect(chooseCell(view, { model: M, exclude: tried, now: 0, random })).toBeNull();
  });

  it("is deterministic for a given random stream", () => {
    const view = new CellView(8);
    for (let c = 0; c < 8; c++) view.apply(summary(c, 0, 10 + c, 100 + 10 * c));
    const run = (): (number | null)[] => {
      const random = seededRandom(9);
      return Array.from({ length: 50 }, () => chooseCell(view, { model: M, exclude: NONE, now: 500, random }));
    };
    expect(run()).toEqual(run());
  });
});

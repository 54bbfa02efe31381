import { describe, expect, it } from "vitest";
import { cellOf, controlledCells } from "./cells.js";

const ids = Array.from({ length: 20_000 }, (_, i) => `node-${i.toString(36)}-${(i * 7919).toString(16)}`);

describe("cellOf", () => {
  it("puts every node in cell 0 when there is one cell", () => {
    expect(new Set(ids.slice(0, 100).map((id) => cellOf(id, 1)))).toEqual(new Set([0]));
  });

  it("is the same answer every time for the same node", () => {
    for (const id of ids.slice(0, 100)) expect(cellOf(id, 18)).toBe(cellOf(id, 18));
  });

  it("spreads nodes evenly over the cells", () => {
    const counts = new Array<number>(18).fill(0);
    for (const id of ids) counts[cellOf(id, 18)] = (counts[cellOf(id, 18)] ?? 0) + 1;
    const mean = ids.length / 18;
    for (const c of counts) expect(Math.abs(c - mean) / mean).toBeLessThan(0.1);
  });

  it("moves only the nodes the added cell takes when a cell is added", () => {
    let moved = 0;
    for (const id of ids) {
      const before = cellOf(id, 8);
      const after = cellOf(id, 9);
      if (before !== after) {
        expect(after).toBe(8);
        moved++;
      }
    }
    expect(moved / ids.length).toBeGreaterThan(0.08);
    expect(moved / ids.length).toBeLessThan(0.14);
  });

  it("refuses a cell count that is not a positive integer", () => {
    expect(() => cellOf("n", 0)).toThrow(RangeError);
    expect(() => cellOf("n", 1.5)).toThrow(RangeError);
  });
});

describe("controlledCells", () => {
  const cells = 7;
  const [a, b, c] = ids.filter((id, i, all) => all.findIndex((o) => cellOf(o, cells) === cellOf(id, cells)) === i);
  if (!a || !b || !c) throw new Error("need three nodes in three cells");
  const none = new Set<string>();

  it("names nothing for a request without node controls", () => {
    expect(controlledCells({ order: [], only: null, allowFallbacks: true }, none, cells)).toEqual({
      first: [],
      allowed: null,
    });
  });

  it("asks the cells of the client's order first, in its order, leaving out nodes already tried", () => {
    const controls = { order: [b, a, c], only: null, allowFallbacks: true };
    expect(controlledCells(controls, none, cells).first).toEqual([
      cellOf(b, cells),
      cellOf(a, cells),
      cellOf(c, cells),
    ]);
    expect(controlledCells(controls, new Set([b]), cells).first).toEqual([cellOf(a, cells), cellOf(c, cells)]);
    expect(controlledCells(controls, none, cells).allowed).toBeNull();
  });

  it("allows only the cells of `only`, or of `order` without fallbacks", () => {
    expect(controlledCells({ order: [], only: new Set([a, c]), allowFallbacks: true }, none, cells).allowed).toEqual(
      new Set([cellOf(a, cells), cellOf(c, cells)]),
    );
    expect(controlledCells({ order: [b], only: null, allowFallbacks: false }, none, cells).allowed).toEqual(
      new Set([cellOf(b, cells)]),
    );
  });
});

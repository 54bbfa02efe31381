// Which cell owns a node: rendezvous (highest random weight) hashing of the node id over the cell numbers, so every
// isolate and every object computes the same owner without asking anyone, and changing the number of cells moves only
// the nodes whose best cell changed (about 1/(cells+1) of them when one is added), not all of them.

/** A 32-bit mix of the node id and the cell number (FNV-1a, then a murmur3 finaliser for avalanche). */
function score(nodeId: string, cell: number): number {
  let h = 0x811c9dc5 ^ Math.imul(cell + 1, 0x9e3779b1);
  for (let i = 0; i < nodeId.length; i++) {
    h ^= nodeId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The cell (0 ≤ cell < cells) that decides admission for the node. */
export function cellOf(nodeId: string, cells: number): number {
  if (!Number.isInteger(cells) || cells < 1) throw new RangeError(`cells must be a positive integer, not ${cells}`);
  let best = 0;
  let bestScore = -1;
  for (let cell = 0; cell < cells; cell++) {
    const s = score(nodeId, cell);
    if (s > bestScore) {
      best = cell;
      bestScore = s;
    }
  }
  return best;
}

/** Where a request's node controls point among the cells. */
export interface ControlledCells {
  /** Cells of the nodes the client wants tried first (`order`), in that order, once each, leaving out tried nodes. */
  first: number[];
  /** The only cells that can have a node the client allows (`only`, or `order` without fallbacks); null: any. */
  allowed: ReadonlySet<number> | null;
}

export function controlledCells(
  controls: { order: readonly string[]; only: ReadonlySet<string> | null; allowFallbacks: boolean },
  tried: ReadonlySet<string>,
  cells: number,
): ControlledCells {
  const first: number[] = [];
  for (const id of controls.order) {
    const cell = cellOf(id, cells);
    if (!tried.has(id) && !first.includes(cell)) first.push(cell);
  }
  const named = controls.only ?? (controls.allowFallbacks || controls.order.length === 0 ? null : controls.order);
  return { first, allowed: named === null ? null : new Set([...named].map((id) => cellOf(id, cells))) };
}

// A segment tree over slots holding numbers: set one slot and find the smallest in O(log n). The oracle keeps "rank
// if the node has a free slot, else Infinity" in it (so the minimum is the fastest free node); the always-lowest-
// latency baseline keeps each node's expected TTFT.

export class MinTree {
  private readonly leaves: number;
  private readonly values: Float64Array;

  constructor(slots: number) {
    let leaves = 1;
    while (leaves < Math.max(1, slots)) leaves *= 2;
    this.leaves = leaves;
    this.values = new Float64Array(2 * leaves).fill(Infinity);
  }

  get(slot: number): number {
    return this.values[this.leaves + slot] ?? Infinity;
  }

  set(slot: number, value: number): void {
    const v = this.values;
    let i = this.leaves + slot;
    v[i] = value;
    for (i >>= 1; i >= 1; i >>= 1) {
      const m = Math.min(v[2 * i] ?? Infinity, v[2 * i + 1] ?? Infinity);
      if (v[i] === m) break;
      v[i] = m;
    }
  }

  /** The slot holding the smallest value (the leftmost on ties), or -1 when every slot holds Infinity. */
  argmin(): number {
    const v = this.values;
    const min = v[1] ?? Infinity;
    if (min === Infinity) return -1;
    let i = 1;
    while (i < this.leaves) i = (v[2 * i] ?? Infinity) === min ? 2 * i : 2 * i + 1;
    return i - this.leaves;
  }
}

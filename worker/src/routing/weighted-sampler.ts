// Draws an index with probability proportional to its weight, with weights that change one at a time: a Fenwick
// (binary indexed) tree, O(log n) to draw and to update, so a node that fills up stops being drawn at once.

export class WeightedSampler {
  private readonly weights: Float64Array;
  private readonly tree: Float64Array;
  private readonly top: number;
  /** The sum of all weights, kept with each change: every draw needs it. */
  private sum = 0;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    this.weights = new Float64Array(n);
    this.tree = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) {
      const w = weights[i] ?? 0;
      this.weights[i] = Number.isFinite(w) && w > 0 ? w : 0;
      this.sum += this.weights[i] ?? 0;
    }
    // Linear-time construction: each node passes its sum up to its parent once.
    for (let i = 1; i <= n; i++) {
      this.tree[i] = (this.tree[i] ?? 0) + (this.weights[i - 1] ?? 0);
      const parent = i + (i & -i);
      if (parent <= n) this.tree[parent] = (this.tree[parent] ?? 0) + (this.tree[i] ?? 0);
    }
    let top = 1;
    while (top * 2 <= n) top *= 2;
    this.top = n === 0 ? 0 : top;
  }

  get size(): number {
    return this.weights.length;
  }

  weight(index: number): number {
    return this.weights[index] ?? 0;
  }

  total(): number {
    return this.sum;
  }

  set(index: number, weight: number): void {
    const next = Number.isFinite(weight) && weight > 0 ? weight : 0;
    const delta = next - (this.weights[index] ?? 0);
    if (delta === 0) return;
    this.weights[index] = next;
    this.sum += delta;
    for (let i = index + 1; i <= this.weights.length; i += i & -i) this.tree[i] = (this.tree[i] ?? 0) + delta;
  }

  /** An index drawn by weight, or -1 when every weight is zero. */
  draw(random: () => number): number {
    const total = this.total();
    if (!(total > 0)) return -1;
    let target = random() * total;
    let pos = 0;
    for (let step = this.top; step > 0; step >>= 1) {
      const next = pos + step;
      const sum = this.tree[next];
      if (next <= this.weights.length && sum !== undefined && sum <= target) {
        pos = next;
        target -= sum;
      }
    }
    // Rounding can land past the last positive weight, or on a zero one: step back to one that can be drawn.
    let index = Math.min(pos, this.weights.length - 1);
    while (index > 0 && (this.weights[index] ?? 0) === 0) index--;
    return (this.weights[index] ?? 0) > 0 ? index : -1;
  }
}

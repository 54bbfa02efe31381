// Binary min-heap of timed events. Ties break on insertion order, so a run is deterministic however many events share
// a millisecond.

export interface Timed {
  at: number;
  /** Set by the queue. */
  seq: number;
}

export class EventQueue<E extends Timed> {
  private readonly heap: E[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(event: E): void {
    event.seq = this.nextSeq++;
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (p === undefined || !before(event, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
  }

  pop(): E | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const left = heap[l];
      const right = heap[l + 1];
      let child = l;
      let c = left;
      if (right !== undefined && left !== undefined && before(right, left)) {
        child = l + 1;
        c = right;
      }
      if (c === undefined || !before(c, last)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: Timed, b: Timed): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

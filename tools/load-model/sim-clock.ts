// A simulated clock for the load model: `Date.now`, `setTimeout` and `clearTimeout` replaced by a heap of timers that
// fire in simulated time, with the real event loop's microtasks drained between instants, so the Worker's own code
// (batchers, caches, lease renewals) runs unchanged at simulated speed. Written here rather than taken from
// @sinonjs/fake-timers (not installed; vitest bundles its own copy): its tickAsync yields a real macrotask per timer,
// and a full run fires millions of timers.
import { AsyncResource } from "node:async_hooks";
import { setImmediate as realSetImmediate } from "node:timers";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Earlier `at` first, then the order they were set in. */
function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** A binary min-heap of timers. */
class TimerHeap {
  private readonly items: Timer[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Timer | undefined {
    return this.items[0];
  }

  push(t: Timer): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p] as Timer;
      if (!before(t, parent)) break;
      a[i] = parent;
      i = p;
    }
    a[i] = t;
  }

  pop(): Timer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const child = r < a.length && before(a[r] as Timer, a[l] as Timer) ? r : l;
      if (!before(a[child] as Timer, last)) break;
      a[i] = a[child] as Timer;
      i = child;
    }
    a[i] = last;
    return top;
  }
}

/** Lets every promise continuation the fired timers caused run before the clock moves on. */
const drainMicrotasks = (): Promise<void> => new Promise((resolve) => realSetImmediate(resolve));

export class SimClock {
  private readonly timers = new TimerHeap();
  private readonly cancelled = new Set<number>();
  private seq = 0;
  private restore: (() => void) | null = null;

  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms = 0): number {
    const seq = ++this.seq;
    // Bound to the scheduling context, as Node's own timers are, so AsyncLocalStorage (the running colo) carries over.
    this.timers.push({ at: this.current + Math.max(0, ms), seq, fn: AsyncResource.bind(fn) });
    return seq;
  }

  clearTimeout(id: number | undefined): void {
    if (id !== undefined) this.cancelled.add(id);
  }

  /** Runs every timer due up to `until`, in order, and leaves the clock there. */
  async runUntil(until: number): Promise<void> {
    for (;;) {
      const next = this.timers.peek();
      if (next === undefined || next.at > until) break;
      this.current = next.at;
      // Everything due at this instant, then the microtasks it caused (which may set more timers due now).
      while ((this.timers.peek()?.at ?? Infinity) <= this.current) {
        const t = this.timers.pop() as Timer;
        if (this.cancelled.delete(t.seq)) continue;
        t.fn();
      }
      await drainMicrotasks();
    }
    this.current = until;
    await drainMicrotasks();
  }

  /** Replaces the globals the Worker's code reads; `uninstall` (or the returned function) puts them back. */
  install(): () => void {
    const saved = { now: Date.now, setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
    Date.now = () => this.current;
    const fakeSet = (fn: () => void, ms?: number) => this.setTimeout(fn, ms);
    const fakeClear = (id: number | undefined) => this.clearTimeout(id);
    // The Workers types' setTimeout returns a number, Node's a Timeout: the code under test only passes it back.
    globalThis.setTimeout = fakeSet as unknown as typeof globalThis.setTimeout;
    globalThis.clearTimeout = fakeClear as unknown as typeof globalThis.clearTimeout;
    this.restore = () => {
      Date.now = saved.now;
      globalThis.setTimeout = saved.setTimeout;
      globalThis.clearTimeout = saved.clearTimeout;
    };
    return () => this.uninstall();
  }

  uninstall(): void {
    this.restore?.();
    this.restore = null;
  }
}

import { describe, expect, it } from "vitest";
import { EventQueue, type Timed } from "./event-queue.js";
import { MinTree } from "./min-tree.js";
import { logUniformInt, Rng, stream, streamSeed } from "./random.js";

describe("Rng and streams", () => {
  it("repeat for a seed and differ between streams", () => {
    const a = stream(42, 1, 7);
    const b = stream(42, 1, 7);
    const seqA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
    expect(streamSeed(42, 1, 7)).not.toBe(streamSeed(42, 1, 8));
    expect(streamSeed(42, 1, 7)).not.toBe(streamSeed(42, 2, 7));
    for (const x of seqA) expect(x >= 0 && x < 1).toBe(true);
  });

  it("draws log-uniform integers within bounds: 1 as often as 16..31", () => {
    const rng = new Rng(1);
    const draws = Array.from({ length: 20_000 }, () => logUniformInt(rng, 1, 32));
    expect(Math.min(...draws)).toBe(1);
    expect(Math.max(...draws)).toBe(32);
    const small = draws.filter((d) => d === 1).length / draws.length;
    const large = draws.filter((d) => d >= 16 && d <= 31).length / draws.length;
    expect(Math.abs(small - large)).toBeLessThan(0.03);
  });
});

describe("EventQueue", () => {
  it("pops in time order, ties in insertion order", () => {
    const q = new EventQueue<Timed & { name: string }>();
    const times = [5, 1, 3, 1, 9, 0, 3];
    for (const [i, at] of times.entries()) q.push({ at, seq: 0, name: `e${i}` });
    const out: string[] = [];
    for (let e = q.pop(); e; e = q.pop()) out.push(`${e.at}:${e.name}`);
    expect(out).toEqual(["0:e5", "1:e1", "1:e3", "3:e2", "3:e6", "5:e0", "9:e4"]);
    expect(q.size).toBe(0);
  });

  it("stays ordered under a random mix of pushes and pops", () => {
    const rng = new Rng(3);
    const q = new EventQueue<Timed>();
    let last = -Infinity;
    let now = 0;
    for (let i = 0; i < 5000; i++) {
      if (rng.next() < 0.6) q.push({ at: now + rng.next() * 100, seq: 0 });
      else {
        const e = q.pop();
        if (!e) continue;
        expect(e.at).toBeGreaterThanOrEqual(last);
        last = e.at;
        now = e.at;
      }
    }
  });
});

describe("MinTree", () => {
  it("finds the smallest slot, the leftmost on ties, and -1 when all are Infinity", () => {
    const t = new MinTree(5);
    expect(t.argmin()).toBe(-1);
    t.set(3, 7);
    t.set(1, 9);
    expect(t.argmin()).toBe(3);
    t.set(4, 7);
    expect(t.argmin()).toBe(3);
    t.set(3, Infinity);
    expect(t.argmin()).toBe(4);
    t.set(0, 7);
    expect(t.argmin()).toBe(0);
    expect(t.get(1)).toBe(9);
    for (const i of [0, 1, 4]) t.set(i, Infinity);
    expect(t.argmin()).toBe(-1);
  });
});

import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { StrangerConnections } from "./stranger-connections.js";

class FakeConnection extends EventEmitter {
  destroyed = false;
  constructor(readonly name: string) {
    super();
  }
  destroy(): void {
    this.destroyed = true;
    this.emit("close");
  }
}

const connections = (n: number): FakeConnection[] => Array.from({ length: n }, (_, i) => new FakeConnection(`c${i}`));
const dropped = (all: FakeConnection[]): string[] => all.filter((c) => c.destroyed).map((c) => c.name);

describe("stranger connections", () => {
  it("keeps up to the limit and drops the oldest stranger past it", () => {
    const bound = new StrangerConnections<FakeConnection>(3);
    const all = connections(5);
    for (const c of all.slice(0, 3)) bound.admit(c);
    expect(dropped(all)).toEqual([]);
    bound.admit(all[3]!);
    bound.admit(all[4]!);
    expect(dropped(all)).toEqual(["c0", "c1"]);
    expect(bound.size).toBe(3);
  });

  it("never drops a connection the gateway used, however many strangers come after it", () => {
    const bound = new StrangerConnections<FakeConnection>(2);
    const [gateway, ...strangers] = connections(6);
    bound.admit(gateway!);
    bound.trust(gateway!);
    for (const c of strangers) bound.admit(c);
    expect(gateway!.destroyed).toBe(false);
    expect(dropped(strangers)).toEqual(["c1", "c2", "c3"]);
    expect(bound.size).toBe(2);
  });

  it("forgets a stranger that closed, so it frees its place", () => {
    const bound = new StrangerConnections<FakeConnection>(2);
    const all = connections(3);
    bound.admit(all[0]!);
    bound.admit(all[1]!);
    all[0]!.emit("close");
    bound.admit(all[2]!);
    expect(all[1]!.destroyed).toBe(false);
    expect(bound.size).toBe(2);
  });
});

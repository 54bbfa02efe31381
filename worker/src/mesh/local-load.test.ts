import { describe, expect, it } from "vitest";
import { localLoad, onLoadChange, takeSlot } from "./local-load.js";

describe("a node's slots in this isolate", () => {
  it("counts each slot taken until its holder gives it back, once, however often release is called", () => {
    const first = takeSlot("slots-a");
    const second = takeSlot("slots-a");
    expect(localLoad("slots-a")).toBe(2);
    first.release();
    first.release();
    expect(localLoad("slots-a")).toBe(1);
    second.release();
    expect(localLoad("slots-a")).toBe(0);
  });

  it("tells every subscriber of each change, until it unsubscribes", () => {
    const seen: string[] = [];
    const other: string[] = [];
    const stop = onLoadChange((nodeId) => seen.push(nodeId));
    const stopOther = onLoadChange((nodeId) => other.push(nodeId));
    const slot = takeSlot("slots-b");
    stop();
    slot.release();
    stopOther();
    expect(seen).toEqual(["slots-b"]);
    expect(other).toEqual(["slots-b", "slots-b"]);
  });
});

import { describe, expect, it } from "vitest";
import { ConcurrencyGate } from "./concurrency-gate.js";

describe("ConcurrencyGate", () => {
  it("lets in up to its limit, turns the next away, and lets one in again once a place is released", () => {
    const gate = new ConcurrencyGate(2);
    const first = gate.enter();
    const second = gate.enter();
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    expect(gate.enter()).toBeNull();
    first?.();
    expect(gate.inUse).toBe(1);
    expect(gate.enter()).not.toBeNull();
    expect(gate.enter()).toBeNull();
  });

  it("counts a place released twice only once", () => {
    const gate = new ConcurrencyGate(1);
    const release = gate.enter();
    release?.();
    release?.();
    expect(gate.inUse).toBe(0);
    expect(gate.enter()).not.toBeNull();
    expect(gate.enter()).toBeNull();
  });
});

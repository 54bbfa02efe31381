import { afterEach, describe, expect, it } from "vitest";
import { SimClock } from "./sim-clock.js";

describe("the simulated clock", () => {
  const clock = new SimClock(1_000);
  afterEach(() => clock.uninstall());

  it("fires timers in time order, with Date.now at each one's instant, and awaits between them", async () => {
    const realNow = Date.now;
    clock.install();
    const seen: string[] = [];
    setTimeout(() => seen.push(`b@${Date.now()}`), 20);
    setTimeout(() => seen.push(`a@${Date.now()}`), 10);
    const cancelled = setTimeout(() => seen.push("never"), 15);
    clearTimeout(cancelled);
    // A chain of awaits and timers, as the Worker's code makes: each step at its own simulated instant.
    void (async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await Promise.resolve();
      setTimeout(() => seen.push(`c@${Date.now()}`), 0);
    })();
    await clock.runUntil(1_030);
    expect(seen).toEqual(["c@1005", "a@1010", "b@1020"]);
    expect(Date.now()).toBe(1_030);
    clock.uninstall();
    expect(Date.now).toBe(realNow);
  });
});

import { describe, expect, it } from "vitest";
import { MINUTE_MS, TrafficWindow, WINDOW_MINUTES } from "./traffic-window.js";

const T0 = 1_800_000_000_000 - (1_800_000_000_000 % MINUTE_MS);

describe("TrafficWindow", () => {
  it("reads the last hour minute by minute, oldest first, with zeros where nothing happened", () => {
    const w = new TrafficWindow();
    w.count(T0 + 1_000, true, T0 + 1_000);
    w.count(T0 + 2_000, false, T0 + 2_000);
    w.count(T0 + MINUTE_MS + 5, true, T0 + MINUTE_MS + 5);
    const minutes = w.read(T0 + MINUTE_MS + 10);
    expect(minutes).toHaveLength(WINDOW_MINUTES);
    expect(minutes.at(-1)).toEqual({ start: T0 + MINUTE_MS, requests: 1, succeeded: 1 });
    expect(minutes.at(-2)).toEqual({ start: T0, requests: 2, succeeded: 1 });
    expect(minutes[0]).toEqual({ start: T0 - (WINDOW_MINUTES - 2) * MINUTE_MS, requests: 0, succeeded: 0 });
  });

  it("forgets minutes older than the window", () => {
    const w = new TrafficWindow();
    w.count(T0, true, T0);
    const later = T0 + WINDOW_MINUTES * MINUTE_MS;
    expect(w.read(later).every((m) => m.requests === 0)).toBe(true);
    expect(w.count(T0, true, later)).toBeNull();
  });

  it("counts an outcome stamped ahead of its reader's clock in the current minute", () => {
    const w = new TrafficWindow();
    w.count(T0 + 5 * MINUTE_MS, true, T0);
    expect(w.read(T0).at(-1)).toEqual({ start: T0, requests: 1, succeeded: 1 });
  });

  it("starts from minutes held before a restart", () => {
    const w = new TrafficWindow([{ start: T0, requests: 7, succeeded: 6 }]);
    w.count(T0 + 1, true, T0 + 1);
    expect(w.read(T0 + 2).at(-1)).toEqual({ start: T0, requests: 8, succeeded: 7 });
  });
});

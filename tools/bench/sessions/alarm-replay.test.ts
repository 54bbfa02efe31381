import { describe, expect, it } from "vitest";
import { ALARM_REARM_SLACK_MS, countBetween, replayAlarms } from "./alarm-replay.js";

const every = (from: number, step: number, count: number): number[] =>
  Array.from({ length: count }, (_, i) => from + i * step);

describe("replayAlarms", () => {
  it("fires every 15 s while pings every 5 s arrive before each alarm", () => {
    // Pings at 5, 10, 15, ... s after opening; the first alarm at 15 s sees the ping sent exactly then.
    const { fires, silencedAt } = replayAlarms(0, every(5_000, 5_000, 40), 60_500);
    expect(fires).toEqual([15_000, 30_000 + ALARM_REARM_SLACK_MS, 45_000 + ALARM_REARM_SLACK_MS, 60_100]);
    expect(silencedAt).toBeNull();
  });

  it("says which alarm is armed past the horizon", () => {
    expect(replayAlarms(0, every(5_000, 5_000, 40), 50_000).nextAt).toBe(60_100);
    expect(replayAlarms(1_000, [], 100_000).nextAt).toBeNull();
  });

  it("fires after 10 s when the ping due at the alarm arrives just after it", () => {
    // The ping due at 30 s lands 200 ms late, past the alarm's 100 ms of slack: the alarm sees the one from 25 s.
    const pings = [5_000, 10_000, 15_000, 20_000, 25_000, 30_200, 35_000, 40_000];
    expect(replayAlarms(0, pings, 41_000).fires).toEqual([15_000, 30_100, 40_100]);
  });

  it("closes a session that stops pinging, at the first alarm past the limit", () => {
    const { fires, silencedAt } = replayAlarms(1_000, [6_000, 11_000], 100_000);
    expect(fires).toEqual([16_000, 26_100]);
    expect(silencedAt).toBe(26_100);
  });

  it("keeps a session whose pings skip one slot (a 10 s gap)", () => {
    const pings = [...every(5_000, 5_000, 6), ...every(40_000, 5_000, 6)];
    expect(replayAlarms(0, pings, 70_000).silencedAt).toBeNull();
  });

  it("fires nothing before the horizon", () => {
    expect(replayAlarms(0, [], 14_999)).toEqual({ fires: [], silencedAt: null, nextAt: 15_000 });
  });
});

describe("countBetween", () => {
  it("counts a half-open window", () => {
    expect(countBetween([1, 2, 3, 4], 2, 4)).toBe(2);
  });
});

import { describe, expect, it } from "vitest";
import { seededRandom } from "@meshgate/schemas";
import { backoffWindowMs, jitteredDelayMs, RECONNECT_BACKOFF, ReconnectBackoff } from "./backoff.js";

/** How many delays fall in each of `buckets` equal slices of [0, window]. */
function histogram(delays: number[], windowMs: number, buckets: number): number[] {
  const counts = new Array<number>(buckets).fill(0);
  for (const delay of delays) counts[Math.min(buckets - 1, Math.floor((delay / (windowMs + 1)) * buckets))]! += 1;
  return counts;
}

const AGENTS = 10_000;

describe("reconnect backoff", () => {
  it("doubles the window from 250 ms up to the 30 s cap", () => {
    expect([0, 1, 2, 3, 6, 7, 8, 50, 5000].map((failures) => backoffWindowMs(failures))).toEqual([
      250, 500, 1000, 2000, 16_000, 30_000, 30_000, 30_000, 30_000,
    ]);
  });

  it("draws each delay from the whole window, both ends included", () => {
    expect(jitteredDelayMs(1000, () => 0)).toBe(0);
    expect(jitteredDelayMs(1000, () => 0.5)).toBe(500);
    expect(jitteredDelayMs(1000, () => 0.999_999_9)).toBe(1000);
  });

  it("spreads 10,000 agents closed at once over the first window instead of sending them back together", () => {
    const random = seededRandom(1);
    const delays = Array.from({ length: AGENTS }, () => new ReconnectBackoff(random).next());
    const window = RECONNECT_BACKOFF.baseMs;
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(window);
    // Ten slices of 25 ms: each holds about a tenth of the agents, none a crowd.
    for (const count of histogram(delays, window, 10)) {
      expect(count).toBeGreaterThan(800);
      expect(count).toBeLessThan(1200);
    }
  });

  it("spreads agents that keep failing over the capped window, second by second", () => {
    const random = seededRandom(2);
    const agents = Array.from({ length: AGENTS }, () => new ReconnectBackoff(random));
    let delays: number[] = [];
    for (let failure = 0; failure < 10; failure++) delays = agents.map((agent) => agent.next());
    const cap = RECONNECT_BACKOFF.capMs;
    expect(Math.max(...delays)).toBeLessThanOrEqual(cap);
    // Thirty one-second slices: about 333 agents each.
    for (const count of histogram(delays, cap, 30)) {
      expect(count).toBeGreaterThan(250);
      expect(count).toBeLessThan(420);
    }
  });

  it("takes its first window from the gateway's welcome, kept between 100 ms and the cap", () => {
    const backoff = new ReconnectBackoff(() => 0.999_999_9);
    backoff.useFirstWindow(2_000);
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([2_000, 4_000, 8_000]);
    backoff.reset();
    backoff.useFirstWindow(0);
    expect(backoff.next()).toBe(100);
    backoff.reset();
    backoff.useFirstWindow(10_000_000);
    expect(backoff.next()).toBe(30_000);
    // The policy handed in is not changed for other agents.
    expect(RECONNECT_BACKOFF.baseMs).toBe(250);
  });

  it("starts over from the first window after a reset, and draws a ban's retries from the cap", () => {
    const backoff = new ReconnectBackoff(() => 0.999_999_9);
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([250, 500, 1000]);
    backoff.reset();
    expect(backoff.next()).toBe(250);
    expect(backoff.atCap()).toBe(30_000);
    expect(backoff.next()).toBe(500);
  });
});

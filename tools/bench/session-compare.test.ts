import { describe, expect, it } from "vitest";
import {
  coalescedFigures,
  compare,
  formatSessionVsDirect,
  median,
  medianRound,
  pathFigures,
  type ComparisonSizes,
  type PathRound,
} from "./session-compare.js";
import { summarize } from "./stats.js";

const round = (scale: number): PathRound => ({
  requestsPerSecond: 800 * scale,
  loadedP50Ms: 30 * scale,
  gatewayCpuUsPerRequest: 1000 * scale,
  agentCpuUsPerRequest: 400 * scale,
  gatewayCpuUsPerStream: 8000 * scale,
  agentCpuUsPerStream: 3000 * scale,
  eventArrivals: 49,
});

const sizes: ComparisonSizes = {
  rounds: 3,
  latencyRequests: 300,
  concurrency: 32,
  throughputRequests: 3000,
  streams: 600,
  streamConcurrency: 16,
};

describe("median", () => {
  it("takes the middle value, or the mean of the middle pair", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it("refuses an empty list", () => {
    expect(() => median([])).toThrow(/empty/);
  });
});

describe("medianRound", () => {
  it("takes each figure's median on its own, not one whole round", () => {
    const rounds = [round(1), round(3), { ...round(2), requestsPerSecond: 10_000 }];
    expect(medianRound(rounds)).toEqual({ ...round(2), requestsPerSecond: 2400 });
  });

  it("refuses no rounds", () => {
    expect(() => medianRound([])).toThrow(/no rounds/);
  });
});

describe("compare", () => {
  const direct = pathFigures("node_direct", summarize([4, 4, 5, 6]), [round(1), round(1)]);
  const session = pathFigures("node_session", summarize([5, 6, 6, 9]), [round(1.5), round(2.5)]);
  const coalesced = coalescedFigures(
    "node_batched",
    20,
    [round(1), { ...round(1), eventArrivals: 12 }, round(0.5)],
    session,
  );
  const result = compare(sizes, direct, session, coalesced);

  it("keeps each path's node, rounds and medians", () => {
    expect(result.direct).toMatchObject({
      node: "node_direct",
      gatewayCpuUsPerRequest: 1000,
      rounds: [round(1), round(1)],
    });
    expect(result.session).toMatchObject({ node: "node_session", gatewayCpuUsPerRequest: 2000 });
  });

  it("divides session by direct for every figure", () => {
    expect(result.ratios).toEqual({
      latencyP50: 6 / 4.5,
      latencyP99: expect.closeTo(session.latencyMs.p99 / direct.latencyMs.p99, 10),
      requestsPerSecond: 2,
      loadedP50Ms: 2,
      gatewayCpuUsPerRequest: 2,
      agentCpuUsPerRequest: 2,
      gatewayCpuUsPerStream: 2,
      agentCpuUsPerStream: 2,
      eventArrivals: 1,
    });
  });

  it("sets coalesced streams against the session's, figure by figure", () => {
    expect(coalesced).toMatchObject({ node: "node_batched", coalesceMs: 20, gatewayCpuUsPerStream: 8000 });
    expect(coalesced.eventArrivals).toBe(49);
    expect(coalesced.ratios).toEqual({ gatewayCpuUsPerStream: 0.5, agentCpuUsPerStream: 0.5, eventArrivals: 1 });
  });

  it("prints one row per figure with both paths and the ratio", () => {
    const lines = formatSessionVsDirect(result).split("\n");
    expect(lines[0]).toMatch(/^session vs direct\s+direct\s+session\s+session\/direct$/);
    expect(lines.find((l) => l.startsWith("c=1 p50 ms"))).toMatch(/4\.500\s+6\.000\s+1\.33x$/);
    expect(lines.find((l) => l.startsWith("c=32 req/s"))).toMatch(/\s800\s+1600\s+2\.00x$/);
    expect(lines.find((l) => l.startsWith("agent CPU µs/50-event stream"))).toMatch(/3000\s+6000\s+2\.00x$/);
    expect(lines.find((l) => l.startsWith("client event arrivals/stream"))).toMatch(/49\.0\s+49\.0\s+1\.00x$/);
    expect(lines.filter((l) => l.endsWith("x"))).toHaveLength(9 + 3);
    expect(lines).toContainEqual(expect.stringMatching(/^session streams, frames coalesced\s+session\s+20 ms frames/));
    expect(lines.find((l, i) => i > 12 && l.startsWith("gateway CPU µs/50-event stream"))).toMatch(
      /16000\s+8000\s+0\.50x$/,
    );
    expect(lines.join("\n")).toContain("3000 at c=32 and 600 streams at c=16 per path in 3 alternating rounds");
  });
});

import { describe, expect, it } from "vitest";
import {
  admitOf,
  compareIsolates,
  formatIsolates,
  gatewayFigures,
  type IsolatesRound,
  type IsolatesSizes,
} from "./isolates-compare.js";
import type { Sample } from "./load.js";
import { serverTimings } from "./phases.js";
import { summarize } from "./stats.js";

const round = (scale: number, admitP50 = 2): IsolatesRound => ({
  requestsPerSecond: 800 / scale,
  loadedP50Ms: 40 * scale,
  gatewayCpuUsPerRequest: 1000 * scale,
  loadedAdmitP50Ms: admitP50,
  loadedAdmitP99Ms: 10,
  otherCores: 0.1,
});

const sizes: IsolatesSizes = { rounds: 3, latencyRequests: 300, concurrency: 32, throughputRequests: 3000 };
const c1 = (pathMs: number, admitMs: number) => ({
  latencyMs: summarize([pathMs, pathMs, pathMs]),
  admitMs: summarize([admitMs, admitMs, admitMs]),
});

const sample = (serverTiming: string | null): Sample => ({
  status: 200,
  error: null,
  headersNs: 1n,
  firstByteNs: 1n,
  totalNs: 1n,
  chunks: 1,
  events: 0,
  eventArrivals: 0,
  bytes: 1,
  serverTiming,
});

describe("serverTimings", () => {
  it("summarizes each entry's durations by name", () => {
    const timings = serverTimings([
      sample(`gateway;dur=1.5;desc="gateway overhead", admit;dur=1, node;dur=3`),
      sample(`gateway;dur=2.5, admit;dur=3, node;dur=5`),
    ]);
    expect(timings.timingMs?.["admit"]?.p50).toBe(2);
    expect(timings.timingMs?.["gateway"]?.count).toBe(2);
    expect(timings.timingMs?.["node"]?.max).toBe(5);
  });

  it("is empty when no answer kept its header", () => {
    expect(serverTimings([sample(null), sample(null)])).toEqual({});
  });
});

describe("admitOf", () => {
  it("takes the admit entry", () => {
    const timings = serverTimings([sample("admit;dur=4"), sample("admit;dur=6")]);
    expect(admitOf(timings, "x").p50).toBe(5);
  });

  it("fails when the answers carry no admit entry, rather than report nothing", () => {
    expect(() => admitOf(serverTimings([sample("gateway;dur=1")]), "Meshgate at c=1")).toThrow(
      /Meshgate at c=1: no "admit" entry/,
    );
    expect(() => admitOf({}, "x")).toThrow(/no "admit" entry/);
  });
});

describe("gatewayFigures", () => {
  it("takes each loaded figure's median over rounds, and the lease's share of the path", () => {
    const f = gatewayFigures(4, "n", c1(10, 2), [round(1, 4), round(3, 6), round(2, 5)]);
    expect(f.loadedP50Ms).toBe(80);
    expect(f.gatewayCpuUsPerRequest).toBe(2000);
    expect(f.loadedAdmitP50Ms).toBe(5);
    expect(f.admitShare).toBeCloseTo(0.2);
    // Per-round shares 4/40, 6/120, 5/80: their median, not 5/80 by chance of the medians.
    expect(f.loadedAdmitShare).toBeCloseTo(0.0625);
    expect(f.rounds).toHaveLength(3);
  });

  it("refuses to summarize no rounds", () => {
    expect(() => gatewayFigures(1, "n", c1(10, 2), [])).toThrow(/no rounds/);
  });
});

describe("compareIsolates and formatIsolates", () => {
  const one = gatewayFigures(1, "a", c1(10, 2), [round(1)]);
  const many = gatewayFigures(4, "b", c1(12, 3), [round(2)]);
  const compared = compareIsolates(sizes, "npm run bench -- --only isolates", one, many);

  it("divides the many-isolate figure by the one-isolate figure", () => {
    expect(compared.ratios.latencyP50).toBeCloseTo(1.2);
    expect(compared.ratios.admitP50).toBeCloseTo(1.5);
    expect(compared.ratios.requestsPerSecond).toBeCloseTo(0.5);
    expect(compared.ratios.gatewayCpuUsPerRequest).toBeCloseTo(2);
    expect(compared.ratios.admitShare).toBeCloseTo(0.25 / 0.2);
  });

  it("prints the table with shares as percentages and the command to reproduce", () => {
    const text = formatIsolates(compared);
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^isolates 1 vs 4\s+1\s+4\s+4\/1$/);
    expect(text).toMatch(/c=1 p50 ms\s+10\.000\s+12\.000\s+1\.20x/);
    expect(text).toMatch(/lease \(admit\) c=1 p50 ms\s+2\.0\s+3\.0\s+1\.50x/);
    expect(text).toMatch(/lease share of c=1 p50\s+20\.0%\s+25\.0%\s+1\.25x/);
    expect(text).toMatch(/lease \(admit\) c=1 mean ms\s+2\.00\s+3\.00\s+1\.50x/);
    expect(text).toMatch(/gateway CPU µs\/request \(c=32\)\s+1000\s+2000\s+2\.00x/);
    expect(lines.at(-1)).toBe("reproduce: npm run bench -- --only isolates");
  });

  it("prints no ratio where the one-isolate lease read 0 ms", () => {
    const zero = gatewayFigures(1, "a", c1(10, 0), [round(1)]);
    const text = formatIsolates(compareIsolates(sizes, "cmd", zero, many));
    expect(text).toMatch(/lease \(admit\) c=1 p50 ms\s+0\.0\s+3\.0\s+–$/m);
  });
});
